from dcatalog.cli import main

main()
