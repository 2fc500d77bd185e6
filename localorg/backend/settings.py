"""Org settings that change what an org is, chosen when the org is created.

Shared Activities (`shared_activities`, on unless the org is created with it off): when off,
EventRelation has no IsParent, IsWhat or AccountId field, and an Event's WhoId brings no
EventRelation along (rules/event.py). Sources in docs/fidelity.md, Org settings.
"""

# Fields that exist only where Shared Activities is enabled (Object Reference: EventRelation).
SHARED_ACTIVITIES_ONLY = {"EventRelation": ("IsParent", "IsWhat", "AccountId")}


def apply(objects: dict, shared_activities: bool) -> None:
    """Remove from `objects` (name -> ObjectDef) the fields the settings leave out."""
    if shared_activities:
        return
    for sobject, names in SHARED_ACTIVITIES_ONLY.items():
        odef = objects.get(sobject)
        for name in names if odef is not None else ():
            odef.fields.pop(name.lower(), None)
