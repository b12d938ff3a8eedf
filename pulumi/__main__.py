"""What `pulumi up` runs in this folder: the program packaged in orchestrator, the same one a run uses."""

from orchestrator.targets.aws.web.program import main

main()
