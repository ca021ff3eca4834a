#!/usr/bin/env bash
# Checks the Prometheus side of deploy/ with Prometheus' own tool: the scrape config and its rule files
# parse, and the alert rules' unit tests (deploy/prometheus/alerts.test.yml) pass. promtool comes from
# Debian's `prometheus` package, installed here when it is missing (as root, the CI machines' user).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../deploy/prometheus"

if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "check-monitoring: promtool is missing; install Debian's prometheus package (apt-get install prometheus)" >&2
    exit 1
  fi
  echo "check-monitoring: installing promtool (Debian package prometheus)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends prometheus >/dev/null; }
fi

promtool check config prometheus.yml
promtool test rules alerts.test.yml
