"""Entry point: `python main.py [--demo]` runs the portal; `python main.py --help` lists admin commands."""

from portal.cli import main

if __name__ in {'__main__', '__mp_main__'}:
    main()
