"""The commands: each module is one command of the CLI (see `cli.COMMANDS`), a few lines over the stages."""
