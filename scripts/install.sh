#!/usr/bin/env bash
# Installs what nslab needs on a Debian machine with Node 20, as root: the kernel
# tools from Debian's packages, Debian's Chromium (for the browser tests), and the
# npm dependencies. Installs only what is missing, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

# gcc, g++, make, libc6-dev, python3: node-pty's native build and nslab-nsread (apps/server/native).
# perl-base (Essential, so always there): lab shells' ip wrapper (apps/server/shell-bin/ip).
# bridge-utils, net-tools: brctl, ifconfig and route, as the tutorials type them; dnsmasq-base: container names (docker/dns.ts).
packages=(iproute2 perl-base iptables nftables tcpdump iputils-ping curl procps util-linux python3 gcc g++ make libc6-dev traceroute conntrack bridge-utils net-tools dnsmasq-base chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "nslab: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Browsers come from Debian, never from a download at install time.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "nslab: installing npm dependencies"
  npm ci --no-audit --no-fund
fi

# The namespace reader: one process reads a whole lab (see apps/server/native/nsread.c).
node apps/server/native/build.mjs
