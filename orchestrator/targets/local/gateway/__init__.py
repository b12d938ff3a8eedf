"""API Gateway REST API stages: routes, the Lambda proxy and direct integrations, CORS."""
