"""`python -m localorg <command>`: scenario FILE (runtime); start|stop|status|register (server)."""

import sys

USAGE = "usage: python -m localorg {scenario FILE | start | stop | status | register} [options]"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "scenario":
        from localorg.scenario import main as scenario_main

        return scenario_main(rest)
    if command in ("start", "stop", "status", "register"):
        from localorg.cli import main as server_main

        return server_main(argv)
    print(f"unknown command {command!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
