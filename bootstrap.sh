#!/bin/bash
# ./bootstrap.sh: from a fresh Debian checkout to a working ./ccmap.
# Installs the build dependencies that are missing (as root, via apt-get),
# runs ./autogen.sh && ./configure && make, then runs an example pipeline.
# Arguments are passed to ./configure.
set -eu
cd "$(dirname "$0")"
.ci/install-deps autoconf automake libtool pkgconf make gcc \
	libpcre2-dev libreadline-dev zlib1g-dev libssl-dev || true
./autogen.sh
./configure "$@"
make -j"$(nproc 2>/dev/null || echo 2)"
echo '$ seq 5 | ./ccmap -j2 echo item'
seq 5 | ./ccmap -j2 echo item
