from gridroom.cli import main

raise SystemExit(main())
