"""``python -m gateway.schema [PATH]`` rewrites the checked-in JSON Schema."""

from gateway.schema.jsonschema import main

raise SystemExit(main())
