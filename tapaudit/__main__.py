from tapaudit.cli import main

main()
