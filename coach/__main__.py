"""The coach program, as `python -m coach` and as the `coach` command."""

import gc


def run() -> None:
    """Start the command line, with the start-up's objects kept out of every later garbage collection."""
    # Importing coach and its libraries makes tens of thousands of objects that live as long as the
    # process: collecting cycles among them finds nothing and cost ~6 ms during the imports and ~7 ms
    # more at exit. So the collector waits out the imports, and what they made is frozen out of its way.
    gc.disable()
    from coach.cli.app import main

    gc.freeze()
    gc.enable()
    main()


if __name__ == "__main__":
    run()
