"""``python -m gans.config check FILE... [--config KEY=VALUE...]``: check config files
as the pipeline does, naming the file, line and key at fault (see metrics.launch)."""

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "check":
        print(
            "usage: python -m gans.config check FILE... [--config KEY=VALUE...]; the only command is 'check'",
            file=sys.stderr,
        )
        return 2
    from metrics.launch import main as check

    return check(argv[1:], prog="python -m gans.config check")


if __name__ == "__main__":
    sys.exit(main())
