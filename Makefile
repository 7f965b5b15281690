# Every command a developer runs is a target here; CodeBuild's buildspecs call the same targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/.venv/bin:$(CURDIR)/node_modules/.bin:$(PATH)
PYTHON := $(CURDIR)/.venv/bin/python
CDK := $(CURDIR)/node_modules/.bin/cdk
PYTEST_WORKERS ?= 2
SAMPLE_RECORDS ?= 100000
LOCAL := .local
# Python's bytecode caches are kept (a shell or image may switch them off): without them every
# process compiles every module again, and each pytest worker rewrites every test module's
# asserts again. __pycache__ is ignored by git and left out of the Glue job packages.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup spark-class-archive lint format unit test pull-request-check \
        pull-request-report contract-gate data-diff synth cfn-lint demo bootstrap \
        deploy-pipeline sandbox diagrams integration-test rehearse alarm-watch bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: ## create .venv, install pinned packages, Node 22, the CDK CLI; check Java (idempotent)
	@bash scripts/setup.sh

# The archive is off with DATAOPS_SPARK_CLASS_ARCHIVE=off (CodeBuild: each build has a fresh .venv,
# and building the archive takes longer than it saves in one build); the file system is a second
# of javac and is built regardless.
spark-class-archive: setup ## the local Spark driver's file system (javac) and class archive, built once
	$(PYTHON) -m dataops spark-class-archive

lint: setup ## ruff check + format check, config/contracts/job graph, SQL data tests
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m dataops validate-config > /dev/null
	$(PYTHON) -m dataops lint-data-tests
	$(PYTHON) -m dataops check-pii

format: setup ## apply ruff fixes and formatting
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

unit: setup spark-class-archive ## pytest only (JUnit XML in reports/)
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --junitxml=reports/pytest.xml \
		$(PYTEST_ARGS)

test: lint unit ## every lint and every test (what CI and the pull-request check run)

# The pull-request check: the contract gate against the commit the pull request merges into
# (python -m dataops pull-request-base; PULL_REQUEST_BASE=<ref> overrides it), the lints, the
# tests the change can affect (a data set's own tests only when the lineage impact reaches it;
# every test when shared code changed), then the data diff against the base, reported in
# reports/data-diff.md. The tests synthesize every stack with cdk-nag, cfn-lint every template
# and run the data workflow locally on generated sample data.
IMPACT := reports/impact.json
pull-request-check: setup ## what a pull request must pass: contract gate, lint, impacted tests, data diff, rehearsal
	base="$$($(PYTHON) -m dataops pull-request-base)" && \
	  $(PYTHON) -m dataops check-contracts --base "$$base" && \
	  $(PYTHON) -m dataops impact --base "$$base" --json $(IMPACT)
	@$(MAKE) --no-print-directory test PYTEST_ARGS="--impact=$(IMPACT)"
	base="$$($(PYTHON) -m dataops pull-request-base)" && $(PYTHON) -m dataops data-diff --base "$$base"
	@$(MAKE) --no-print-directory rehearse REHEARSE_ARGS="--impact $(IMPACT)"

# After the check, pass or fail (the buildspec's post_build): keeps a report for the build's
# artifacts and comments it on a GitHub pull request when a token is configured.
pull-request-report: ## the pull-request check's report: build artifact, GitHub comment
	$(PYTHON) -m dataops pull-request-report

BASE ?= origin/main
contract-gate: setup ## breaking contract changes against BASE (default origin/main) need a major bump
	@if git rev-parse --verify --quiet "$(BASE)^{commit}" > /dev/null; then \
	  $(PYTHON) -m dataops check-contracts --base "$(BASE)"; \
	else \
	  echo "contract-gate: no base '$(BASE)' in this clone (first commit or shallow clone): nothing to compare"; \
	fi

data-diff: setup spark-class-archive ## what the committed changes do to the data, against BASE (default origin/main)
	$(PYTHON) -m dataops data-diff --base "$(BASE)"

synth: setup ## synthesize every stack of every environment into cdk.out
	$(CDK) synth --quiet --output cdk.out > /dev/null
	@echo "synthesized: $$(find cdk.out -name '*.template.json' | wc -l) templates in cdk.out"

cfn-lint: synth ## cfn-lint every synthesized template, then lint its IAM policies (parliament)
	$(PYTHON) -m dataops.cfn_lint_templates cdk.out
	$(PYTHON) -m dataops.iam_lint cdk.out

bootstrap: setup ## cdk bootstrap one account from the config: ENV=tooling|dev|staging|prod
	@test -n "$(ENV)" || { echo "error: ENV: not set; fix: make bootstrap ENV=tooling"; exit 2; }
	args="$$($(PYTHON) -m dataops bootstrap-args --env $(ENV) $(BOOTSTRAP_ARGS))" && \
	  eval "$(CDK) bootstrap $$args"

deploy-pipeline: setup ## deploy the delivery pipeline (tooling account); it deploys the rest itself
	$(CDK) deploy DeliveryPipeline --require-approval broadening

sandbox: setup ## deploy one environment's stage into your current account: ENV=dev
	@test -n "$(ENV)" || { echo "error: ENV: not set; fix: make sandbox ENV=dev"; exit 2; }
	$(CDK) deploy -c sandbox=$(ENV) 'Sandbox/*'

demo: synth spark-class-archive ## the main job, no AWS account: synth, sample data, the data workflow run locally
	rm -rf $(LOCAL)/raw $(LOCAL)/warehouse
	$(PYTHON) -m dataops sample-data --out $(LOCAL)/raw --records $(SAMPLE_RECORDS) --seed 7
	$(PYTHON) -m dataops run-local --raw $(LOCAL)/raw --warehouse $(LOCAL)/warehouse

diagrams: synth ## Mermaid diagrams of the delivery pipeline and data workflow into docs/
	$(PYTHON) -m dataops diagrams --assembly cdk.out --out docs

integration-test: setup ## post-deploy checks of a deployed environment: ENV=dev [INTEGRATION_ARGS=...]
	@test -n "$(ENV)" || { echo "error: ENV: not set; fix: make integration-test ENV=dev"; exit 2; }
	$(PYTHON) -m dataops integration-test --env $(ENV) --junit-xml reports/integration-$(ENV).xml \
		$(INTEGRATION_ARGS)

# The assembly is synthesized by the command itself when cdk.out is missing or stale.
rehearse: setup spark-class-archive ## every scenario of the synthesized data workflows in moto: every environment, or ENV=dev [REHEARSE_ARGS=...]
	$(PYTHON) -m dataops rehearse $(if $(ENV),--env $(ENV)) \
		--junit-xml reports/rehearse$(if $(ENV),-$(ENV)).xml $(REHEARSE_ARGS)

alarm-watch: setup ## fail if a deployed environment's alarm fires in its watch time: ENV=dev
	@test -n "$(ENV)" || { echo "error: ENV: not set; fix: make alarm-watch ENV=dev"; exit 2; }
	$(PYTHON) -m dataops alarm-watch --env $(ENV) --junit-xml reports/alarm-watch-$(ENV).xml \
		$(ALARM_WATCH_ARGS)

bench: setup spark-class-archive ## benchmarks; writes bench/results.md
	$(PYTHON) -m bench $(BENCH_ARGS)

clean: ## remove generated files (keeps .venv and node_modules)
	rm -rf cdk.out $(LOCAL) reports .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -prune \
		-exec rm -rf {} +
