"""Accepted IAM lint findings: each names the issue, where it occurs and why it is accepted.

Like the cdk-nag acknowledgements, these are reviewed one by one: an entry covers only findings
of its issue code, in stacks and resources matching its patterns, about the actions it lists
(spelled as the policy spells them). The kinds in ``NEVER_ACKNOWLEDGED`` cannot appear here.
"""

from __future__ import annotations

from dataops.iam_findings import Acknowledgement

# Parliament reads every resource type an action lists as required, where AWS's reference means
# "one of these": s3:GetObjectAttributes (access point or object), states:DescribeExecution
# (execution or express execution), states:ListExecutions (state machine or map run).
ALTERNATIVE_RESOURCE_TYPES = (
    "parliament expects every resource type the action lists; AWS accepts any one of them"
)

# The actions the key policies of this app grant, as they spell them.
KEY_POLICY_ACTIONS = (
    "kms:*",
    "kms:Decrypt",
    "kms:Decrypt*",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:Encrypt*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)

ACKNOWLEDGEMENTS: tuple[Acknowledgement, ...] = (
    Acknowledgement(
        issue="RESOURCE_MISMATCH",
        stack="*",
        resource="*",
        resource_type="*",
        actions=("s3:GetObject*", "s3:List*"),
        reason="CDK's bucket grants (artifact and asset buckets, auto-delete) spell these "
        "wildcards; a wildcard grants only the actions whose resource types the statement names "
        "(the bucket and its objects). The rest (access points, access grants, account-wide "
        "listings) match nothing and grant nothing; for s3:GetObjectAttributes "
        f"{ALTERNATIVE_RESOURCE_TYPES}",
    ),
    Acknowledgement(
        issue="RESOURCE_MISMATCH",
        stack="*-data-workflow",
        resource="IntegrationTestAccessRoleDefaultPolicy*",
        resource_type="AWS::IAM::Policy",
        actions=("states:DescribeExecution", "states:ListExecutions"),
        reason=f"{ALTERNATIVE_RESOURCE_TYPES}: the workflow is a STANDARD state machine without "
        "map runs, so its ARN and its executions' ARNs are the resources",
    ),
    Acknowledgement(
        issue="RESOURCE_STAR",
        stack="*",
        resource="*",
        resource_type="AWS::KMS::Key",
        actions=KEY_POLICY_ACTIONS,
        reason="In a key policy, Resource '*' is the key the policy belongs to (AWS requires "
        "that spelling); it reaches no other key",
    ),
    Acknowledgement(
        issue="MISMATCHED_TYPE",
        stack="*",
        resource="*",
        resource_type="AWS::KMS::Key",
        actions=(),
        reason="ArnLike on kms:EncryptionContext:aws:logs:arn (a string key holding the log "
        "group's ARN) is how AWS documents a key policy for CloudWatch Logs, and how its "
        "managed policy CloudWatchLogsAPIKeyAccess conditions the same key",
    ),
    Acknowledgement(
        issue="RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        stack="*-data-workflow",
        resource="Storage*Policy*",
        resource_type="AWS::S3::BucketPolicy",
        actions=(),
        reason="Dev and staging buckets are emptied on stack deletion by CDK's auto-delete "
        "provider role, which needs s3:PutBucketPolicy (to block new writes while it deletes) "
        "but not s3:GetObject or s3:PutObject; that role is the stack's own and only its "
        "custom resource assumes it",
    ),
    Acknowledgement(
        issue="RESOURCE_STAR",
        stack="*-delivery-pipeline",
        resource="PipelineAssetsFileRoleDefaultPolicy*",
        resource_type="AWS::IAM::Policy",
        actions=("codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"),
        reason="CDK Pipelines' asset step drives its CodeBuild builds with these actions on "
        "'*' (acknowledged for cdk-nag in stacks/delivery_pipeline/expected_wildcards.py); "
        "none of them reads or writes data",
    ),
)
