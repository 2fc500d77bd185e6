"""Options of the project's tasks, named in every error: the bad one, its value, the allowed."""

import re

from cumulusci.core.exceptions import TaskOptionsError

# Options every cci task takes (cumulusci/core/tasks.py, BaseTask._init_options).
SPECIAL = {"debug_before", "debug_after", "no_prompt"}


class NamedOptions:
    """First base of the project's tasks: a wrong option says which, with the task's options.

    Stock CumulusCI answers an unknown option of a task with a CCIOptions class only "extra
    options not permitted", and silently ignores one given to a task that declares
    ``task_options`` (``-o layout X`` for ``layouts`` did nothing); a bad value is named without
    the value given. Here both say the option, the value, the task's options and the fix.
    """

    def _option_names(self) -> list:
        options = getattr(self, "Options", None)
        return sorted(options.__fields__ if options else self.task_options or {})

    def _task_name(self) -> str:
        """The cci task name (cumulusci.yml's tasks: entry for this class), else the class's."""
        class_path = f"{type(self).__module__}.{type(self).__name__}"
        tasks = getattr(self.project_config, "tasks", None) or {}
        names = [name for name, config in tasks.items()
                 if isinstance(config, dict) and config.get("class_path") == class_path]
        return self.task_config.name or (names[0] if len(names) == 1 else type(self).__name__)

    def _init_options(self, kwargs):
        given = {**(self.task_config.options or {}), **(kwargs or {})}
        allowed = self._option_names()
        task = self._task_name()
        hint = (f"Options of {task}: {', '.join(allowed)}. Set one with -o NAME VALUE (in a "
                f"flow: -o {task}__NAME VALUE); the README's Options table says what each does.")
        unknown = sorted(set(given) - set(allowed) - SPECIAL)
        if unknown:
            shown = ", ".join(f"{name} (given {given[name]!r})" for name in unknown)
            raise TaskOptionsError(f"{task} has no option {shown}. {hint}")
        try:
            super()._init_options(kwargs)
        except TaskOptionsError as err:
            named = re.findall(r"Error in '([^']+)' option", str(err))
            values = "; ".join(f"given {n}={given[n]!r}" for n in named if n in given)
            raise TaskOptionsError(f"{err}{f' ({values})' if values else ''}. {hint}") from err
