from twinviewer.cli import main

raise SystemExit(main())
