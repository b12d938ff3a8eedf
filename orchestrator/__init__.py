"""orchestrator: one declarative file from training data to a public REST API and web page.

A spec flows one way through stages, each a module (or package) of its own; layers
import only downward (pyproject's import-linter contracts):

    spec.loader   YAML -> plain data, with the line and column of every node
    validate      JSON Schema and pydantic types, named cross-field checks, the target's rules
    graph         steps and their `${steps.X.outputs.Y}` references -> a DAG
    fingerprint   a step's identity: its config, the files it reads, its upstream
    plan          compare with recorded state -> frozen ops with typed causes
    execute       the only stage that changes the world, through a target
    state         what every run recorded (SQLite or S3), one transaction per record

`spec.kinds` describes each step kind once; `targets` holds the two worlds (local,
aws) behind one interface; `commands` are the CLI's verbs, each a few lines over
these stages (`commands/run.py` reads as the whole flow).
"""

__version__ = "0.1.0"
