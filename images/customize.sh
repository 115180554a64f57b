#!/bin/sh
# Runs inside the image's root file system (chroot) after the packages are
# installed: the appliance's user, the units, and no state in the image.
set -eu

# The appliance's own user, with a fixed id: the data partition is built
# with its root directory owned by 900:900 (build.sh).
useradd --system --uid 900 --user-group --home-dir /var/lib/veedel --no-create-home \
	--shell /usr/sbin/nologin --groups dialout,lp veedel

systemctl enable veedel.service veedel-provision.service veedel-health.service veedel-update.service \
	systemd-networkd.service systemd-resolved.service systemd-timesyncd.service nftables.service
# An appliance works offline: nothing waits for the network at boot, and
# nothing runs apt (updates come as signed A/B bundles).
systemctl disable systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service 2>/dev/null || true
ln -sf /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf

# Stable names for the slot's kernel and initramfs: the boot loader's copy
# on the ESP is taken from here, by the build and by the update agent.
cd /boot
k=$(ls vmlinuz-* | head -n1)
i=$(ls initrd.img-* | head -n1)
ln -sf "$k" vmlinuz
ln -sf "$i" initrd.img
cd /

mkdir -p /efi /var/lib/veedel
# No identity and no state in the image: systemd makes a machine ID at
# boot (on a read-only root: in /run), /var is a tmpfs.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
rm -rf /var/cache/* /var/lib/apt/lists/* /var/log/* /var/tmp/* /tmp/*
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
