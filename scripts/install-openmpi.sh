#!/usr/bin/env bash
# Installs Open MPI from Debian (what the MPI tests and `mpirun ... ntk` need): mpirun and libmpi.so.40.
# CI runs this before the tests; the tests that need mpirun fail loudly when it is missing.
set -euo pipefail
if command -v mpirun >/dev/null 2>&1 && ldconfig -p | grep -q 'libmpi.so.40'; then
  echo "Open MPI already installed: $(mpirun --version 2>/dev/null | head -1)"
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y openmpi-bin libopenmpi-dev
mpirun --version | head -1
