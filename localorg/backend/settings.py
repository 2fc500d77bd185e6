"""Org settings that change what an org is, chosen when the org is created.

Shared Activities (`shared_activities`, on unless the org is created with it off): when off,
EventRelation has no IsParent, IsWhat or AccountId field, and an Event's WhoId brings no
EventRelation along (rules/event.py). Sources in docs/fidelity.md, Org settings.
"""

from dataclasses import replace

# Fields that exist only where Shared Activities is enabled (Object Reference: EventRelation).
SHARED_ACTIVITIES_ONLY = {"EventRelation": ("IsParent", "IsWhat", "AccountId")}


def apply(objects: dict, shared_activities: bool) -> None:
    """Leave out of `objects` (name -> ObjectDef) the fields the settings remove. The ObjectDef
    is replaced by a copy, never changed, in case another org shares it."""
    if shared_activities:
        return
    for sobject, names in SHARED_ACTIVITIES_ONLY.items():
        odef = objects.get(sobject)
        if odef is not None:
            drop = {name.lower() for name in names}
            objects[sobject] = replace(odef, fields={key: fdef for key, fdef in odef.fields.items()
                                                     if key not in drop})
