#!/usr/bin/env bash
# Builds the appliance's disk image from Debian stable packages:
#   build.sh VEEDEL_BINARY OUTDIR
# writes OUTDIR/veedel.img (GPT: ESP, root slots A and B, provisioning,
# data), OUTDIR/rootfs.squashfs (slot A's content: what veedel release sign
# -rootfs takes) and OUTDIR/SHA256SUMS. Needs root (mmdebstrap's root mode)
# and: mmdebstrap squashfs-tools dosfstools mtools e2fsprogs fdisk.
# The city's public release keys (veedel release keygen's .pub) come from
# RELEASE_PUB, one file or two separated by a space (during a rotation):
# the update agent accepts only bundles signed by one of them. Without it
# the image takes no updates (veedel-update.service does not start).
# docs/IMAGES.md describes the layout.
set -euo pipefail

bin=${1:?usage: build.sh VEEDEL_BINARY OUTDIR}
out=${2:?usage: build.sh VEEDEL_BINARY OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$bin")
mkdir -p "$out"
out=$(realpath "$out")
suite=${IMAGE_SUITE:-trixie}
mirror=${IMAGE_MIRROR:-http://deb.debian.org/debian}
work=${IMAGE_WORK:-$out/work}
# The commit's time, so that file times and the file systems' own
# timestamps do not depend on when the image was built.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
export MTOOLS_SKIP_CHECK=1

# Partition sizes in MiB; the data partition is last so that it can grow.
ESP_MIB=256 ROOT_MIB=1024 PROV_MIB=1 DATA_MIB=${IMAGE_DATA_MIB:-512}
# Fixed GUIDs: the boot entries name the root slots by PARTUUID, and the
# image is the same bytes for the same inputs.
DISK_GUID=56454544-454c-4000-8000-000000000000
ESP_UUID=56454544-454c-4000-8000-000000000001
ROOTA_UUID=56454544-454c-4000-8000-00000000000a
ROOTB_UUID=56454544-454c-4000-8000-00000000000b
PROV_UUID=56454544-454c-4000-8000-000000000004
DATA_UUID=56454544-454c-4000-8000-000000000005
VEEDEL_UID=900
CMDLINE_COMMON="rootfstype=squashfs ro console=tty0 console=ttyS0,115200 panic=10 quiet systemd.show_status=1"

for tool in mmdebstrap mksquashfs mkfs.fat mcopy mkfs.ext4 sfdisk; do
	command -v "$tool" >/dev/null || { echo "build.sh: $tool missing: apt-get install mmdebstrap squashfs-tools dosfstools mtools e2fsprogs fdisk" >&2; exit 2; }
done
read -r -a pubs <<< "${RELEASE_PUB:-}"
[ "${#pubs[@]}" -le 2 ] || { echo "build.sh: RELEASE_PUB names ${#pubs[@]} keys; at most two (the old and the new during a rotation)" >&2; exit 2; }
for p in "${pubs[@]}"; do
	[ -r "$p" ] || { echo "build.sh: RELEASE_PUB: $p is not readable (veedel release keygen -out city-release.key writes city-release.pub beside it)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "build.sh: needs root (mmdebstrap --mode=root; CI runs as root)" >&2; exit 2; }

root=$work/root
t0=$(date +%s)
if [ -n "${IMAGE_REUSE_ROOT:-}" ] && [ -x "$root/usr/bin/veedel" ]; then
	# Development only: reuse the last build's root file system.
	rm -rf "$work/esp" "$work/data" "$work"/*.img "$work/rootfs.squashfs"
	install -m 0755 "$bin" "$root/usr/bin/veedel"
	cp -a "$here/rootfs/." "$root/"
	chroot "$root" systemctl enable -q veedel.service veedel-provision.service veedel-health.service veedel-update.service
else
rm -rf "$work"
mkdir -p "$work" "$out"

# 1. The root file system: minbase plus what an appliance needs, no docs,
#    no man pages, no translations (the kiosk's texts are in the binary).
packages=(systemd systemd-sysv systemd-timesyncd systemd-resolved systemd-boot systemd-boot-efi
	udev linux-image-amd64 initramfs-tools zstd nftables fonts-dejavu-core ca-certificates e2fsprogs)
mmdebstrap --mode=root --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
	--dpkgopt='force-unsafe-io' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/lintian/*' \
	--essential-hook="mkdir -p \"\$1/etc/initramfs-tools/conf.d\" && cp '$here/rootfs/etc/initramfs-tools/conf.d/veedel.conf' \"\$1/etc/initramfs-tools/conf.d/\" && echo squashfs >> \"\$1/etc/initramfs-tools/modules\"" \
	--customize-hook="cp -a '$here/rootfs/.' \"\$1/\"" \
	--customize-hook="install -m 0755 '$bin' \"\$1/usr/bin/veedel\"" \
	--customize-hook="chroot \"\$1\" /bin/sh < '$here/customize.sh'" \
	"$suite" "$root" "$mirror" >"$work/mmdebstrap.log" 2>&1 ||
	{ tail -30 "$work/mmdebstrap.log" >&2; echo "build.sh: mmdebstrap failed (log: $work/mmdebstrap.log)" >&2; exit 1; }
fi
t1=$(date +%s)
# The release keys: only these, also when the root file system is reused.
rm -rf "$root/etc/veedel/release-keys"
mkdir -p "$root/etc/veedel/release-keys"
i=0
for p in "${pubs[@]}"; do
	i=$((i + 1))
	install -m 0644 "$p" "$root/etc/veedel/release-keys/$i.pub"
done
[ "$i" -gt 0 ] || echo "build.sh: no RELEASE_PUB: this image takes no updates" >&2
version=$("$root/usr/bin/veedel" version 2>/dev/null | awk '{print $NF}' || echo unknown)
echo "$version" > "$root/etc/veedel-version"

# 2. Slot A: the root file system as squashfs (read-only by nature).
mksquashfs "$root" "$work/rootfs.squashfs" -noappend -no-progress -quiet -comp zstd -b 1M \
	-wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' >/dev/null
rootsz=$(stat -c %s "$work/rootfs.squashfs")
if [ "$rootsz" -gt $((ROOT_MIB * 1024 * 1024)) ]; then
	echo "build.sh: rootfs.squashfs ($rootsz bytes) exceeds the ${ROOT_MIB} MiB slot" >&2; exit 1
fi

# 3. The ESP: systemd-boot, slot A's kernel and initramfs, and slot A's
#    entry with a boot counter ("+3"): the first boot must prove itself too.
esp=$work/esp.img
stage=$work/esp
mkdir -p "$stage/EFI/BOOT" "$stage/EFI/systemd" "$stage/loader/entries" "$stage/veedel/a"
cp "$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$stage/EFI/BOOT/BOOTX64.EFI"
cp "$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$stage/EFI/systemd/systemd-bootx64.efi"
cp -L "$root/boot/vmlinuz" "$stage/veedel/a/vmlinuz"
cp -L "$root/boot/initrd.img" "$stage/veedel/a/initrd.img"
cat > "$stage/loader/loader.conf" <<CONF
# No menu, no editing of the kernel command line (it would be a root
# shell); entries sort by version, newest first, and an entry whose boot
# counter ran out sorts last: that is the fallback to the other slot.
timeout 0
editor no
auto-entries no
auto-firmware no
CONF
cat > "$stage/loader/entries/veedel-a+3.conf" <<CONF
title Veedel $version (slot A)
#release $version
sort-key veedel
version 1
linux /veedel/a/vmlinuz
initrd /veedel/a/initrd.img
options root=PARTUUID=$ROOTA_UUID $CMDLINE_COMMON veedel.slot=a
CONF
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$esp"
mkfs.fat -C -F 32 -n ESP -i 56454544 --invariant "$esp" $((ESP_MIB * 1024)) >/dev/null
mcopy -s -m -i "$esp" "$stage"/EFI "$stage"/loader "$stage"/veedel ::/

# 4. The data partition: empty ext4 owned by the appliance's user; the
#    SQLite files, the site key and the provisioning land here.
mkdir -p "$work/data"
chmod 0700 "$work/data"
mkfs.ext4 -q -F -L data -U "$DATA_UUID" -E "root_owner=$VEEDEL_UID:$VEEDEL_UID,hash_seed=$DATA_UUID" \
	-d "$work/data" "$work/data.img" "${DATA_MIB}M" >/dev/null

# 5. The disk: GPT assembled around the partition images, no loop device.
mib=$((1024 * 1024))
img=$work/veedel.img
total=$(( (1 + ESP_MIB + 2 * ROOT_MIB + PROV_MIB + DATA_MIB + 1) * mib ))
rm -f "$img"
truncate -s "$total" "$img"
sfdisk -q --no-reread --no-tell-kernel "$img" <<GPT
label: gpt
label-id: $DISK_GUID
first-lba: 2048
start=1MiB, size=${ESP_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_UUID, name=esp
size=${ROOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOTA_UUID, name=root-a
size=${ROOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOTB_UUID, name=root-b
size=${PROV_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$PROV_UUID, name=provision
size=${DATA_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$DATA_UUID, name=data
GPT
put() { dd if="$1" of="$img" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$esp" 1
put "$work/rootfs.squashfs" $((1 + ESP_MIB))
put "$work/data.img" $((1 + ESP_MIB + 2 * ROOT_MIB + PROV_MIB))

mv "$img" "$out/veedel.img"
cp "$work/rootfs.squashfs" "$out/rootfs.squashfs"
(cd "$out" && sha256sum veedel.img rootfs.squashfs > SHA256SUMS)
t2=$(date +%s)
used=$(du -k "$out/veedel.img" | cut -f1)
echo "image: $out/veedel.img ($((total / mib)) MiB, $((used / 1024)) MiB allocated), rootfs.squashfs $((rootsz / mib)) MiB, veedel $version, debootstrap $((t1 - t0)) s, total $((t2 - t0)) s"
