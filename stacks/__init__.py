"""CDK constructs and stacks: the delivery pipeline, the environment stage, the data workflow."""
