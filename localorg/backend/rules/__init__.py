"""Per-object rules of the store: computed fields, extra required fields, validation and the
records a write or delete brings along. Objects without an entry here follow the describe only.

    rules_for("Event").derive(txn, full, given)   # see `base.Rules` for every hook
"""

from localorg.backend.rules.base import Person, Rules
from localorg.backend.rules.event import Event
from localorg.backend.rules.eventrelation import EventRelation
from localorg.backend.rules.lead import Lead
from localorg.backend.rules.user import User

_BY_OBJECT = {"Event": Event(), "EventRelation": EventRelation(), "User": User(),
              "Contact": Person(), "Lead": Lead()}
_NONE = Rules()


def rules_for(sobject: str) -> Rules:
    return _BY_OBJECT.get(sobject, _NONE)
