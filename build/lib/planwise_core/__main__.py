from planwise_core.cli import main

main()
