# A fresh Debian "board" for the provisioning tests: systemd as PID 1, sshd, python3, sudo,
# and a user with passwordless sudo, like a freshly flashed Jetson (whose sudo asks a password).
# The container shares the host's network: Debian's own ssh.service (port 22) is masked and
# harness-test-sshd.service listens on 127.0.0.1 at the port written to /keys/port.
# Package maintainer scripts do not start services here (policy-rc.d, as in Debian's container
# images): podman's postinst would start podman-auto-update, which can hang inside a container.
# The roles start the services they need themselves.
# The fake Jetson tools wait in /opt/fake-jetson; a test copies them over / when it needs them.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      openssh-server python3 python3-pip sudo systemd systemd-sysv >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && useradd -m -s /bin/bash jetson && usermod -p '*' jetson \
 && echo 'jetson ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-jetson \
 && chmod 0440 /etc/sudoers.d/90-jetson \
 && systemctl mask ssh.service ssh.socket systemd-logind.service getty.target \
 && printf '%s\n' '[Unit]' 'Description=sshd for the harness provisioning tests' '[Service]' \
      'ExecStartPre=/bin/mkdir -p /run/sshd' \
      'ExecStart=/bin/sh -c "exec /usr/sbin/sshd -D -e -f /dev/null -p $(cat /keys/port) -o ListenAddress=127.0.0.1 -o HostKey=/keys/host_key -o AuthorizedKeysFile=/keys/authorized_keys -o UsePAM=no -o PermitRootLogin=no -o StrictModes=no -o Subsystem=\"sftp internal-sftp\""' \
      '[Install]' 'WantedBy=multi-user.target' > /etc/systemd/system/harness-test-sshd.service \
 && systemctl enable harness-test-sshd.service \
 && printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && mkdir -p /run/sshd
COPY fake-jetson/ /opt/fake-jetson/
