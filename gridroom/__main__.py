import multiprocessing

from gridroom.cli import main

if __name__ == "__main__":
    # In the PyInstaller build the ingest workers and the ack reader are this executable started again by
    # multiprocessing (spawn): freeze_support runs the child's work there instead of the CLI. A no-op otherwise.
    multiprocessing.freeze_support()
    raise SystemExit(main())
