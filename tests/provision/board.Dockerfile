# A fresh Debian "board" for the provisioning tests: sshd, python3, sudo and a user with
# passwordless sudo, like a freshly flashed Jetson (whose user's sudo asks a password).
# The fake Jetson tools wait in /opt/fake-jetson; a test copies them over / when it needs them.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      openssh-server python3 python3-pip sudo >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && useradd -m -s /bin/bash jetson && usermod -p '*' jetson \
 && echo 'jetson ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-jetson \
 && chmod 0440 /etc/sudoers.d/90-jetson \
 && mkdir -p /run/sshd
COPY fake-jetson/ /opt/fake-jetson/
