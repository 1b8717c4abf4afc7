# data/shell/busybox.fs - base image of the "busybox" personality: an ARM or
# MIPS router, DVR or IP camera whose userland is one busybox binary.  The
# board (CPU, kernel, busybox version, applets, web server, application) is
# drawn per sensor in src/shell/persona.c; this file is what such firmware
# images have in common: a read-only squashfs/cramfs root (mounts say so and
# writes there fail with EROFS) with tmpfs on /tmp, /var and /dev.
#
# Format (parsed by src/shell/vfs.c, documented in src/shell/fsdata.c):
#   d PATH MODE UID GID                 directory
#   f PATH MODE UID GID [TEXT]          file: TEXT and a newline (no TEXT: empty)
#   f PATH MODE UID GID <<TAG           file: the following lines up to a line TAG
#   l PATH -> TARGET                    symbolic link
#   x PATH MODE UID GID SIZE APPLET     program (an ELF of SIZE bytes) running APPLET
#   g PATH NAME [MODE UID GID]          generated at read time (hp_persona_gen NAME)
#   c PATH MAJOR MINOR [MODE UID GID]   character device (b: block device)
#   a                                   the board's busybox applet links to /bin/busybox
# @NAME@ is replaced by the personality's fact NAME (hostname, admin, hw, web, ifname, mac).

d / 0755 0 0
d /bin 0755 0 0
x /bin/busybox 0755 0 0 612000 busybox
d /sbin 0755 0 0
d /usr 0755 0 0
d /usr/bin 0755 0 0
d /usr/sbin 0755 0 0
d /usr/lib 0755 0 0
d /usr/share 0755 0 0
a
l /linuxrc -> bin/busybox
d /lib 0755 0 0
x /lib/ld-uClibc-0.9.33.2.so 0755 0 0 28268 -
l /lib/ld-uClibc.so.0 -> ld-uClibc-0.9.33.2.so
x /lib/libuClibc-0.9.33.2.so 0755 0 0 395124 -
l /lib/libc.so.0 -> libuClibc-0.9.33.2.so
x /lib/libpthread-0.9.33.2.so 0755 0 0 78408 -
l /lib/libpthread.so.0 -> libpthread-0.9.33.2.so
x /lib/libdl-0.9.33.2.so 0755 0 0 12404 -
l /lib/libdl.so.0 -> libdl-0.9.33.2.so
x /lib/libm-0.9.33.2.so 0755 0 0 69628 -
l /lib/libm.so.0 -> libm-0.9.33.2.so
d /lib/modules 0755 0 0
d /etc 0755 0 0
f /etc/passwd 0644 0 0 <<END
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
@admin@:x:1000:1000:Linux User,,,:/home/@admin@:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
END
f /etc/group 0644 0 0 <<END
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
utmp:x:43:
staff:x:50:
www-data:x:33:
@admin@:x:1000:
nogroup:x:65534:
END
f /etc/shadow 0600 0 0 <<END
root:$1$ctNa8VNu$Jk8f0QeL0zRp1b4hLmfx01:16000:0:99999:7:::
daemon:*:16000:0:99999:7:::
bin:*:16000:0:99999:7:::
sys:*:16000:0:99999:7:::
sync:*:16000:0:99999:7:::
mail:*:16000:0:99999:7:::
www-data:*:16000:0:99999:7:::
@admin@:$1$T9eVzq3s$k0bX2nA8sE1hWd5qPy7mL.:16000:0:99999:7:::
nobody:*:16000:0:99999:7:::
END
f /etc/hostname 0644 0 0 @hostname@
f /etc/hosts 0644 0 0 <<END
127.0.0.1	localhost
END
f /etc/resolv.conf 0644 0 0 <<END
nameserver 192.168.1.1
END
f /etc/inittab 0644 0 0 <<END
# /etc/inittab
#
# Copyright (C) 2001 Erik Andersen <andersen@codepoet.org>
#
# Note: BusyBox init doesn't support runlevels.  The runlevels field is
# completely ignored by BusyBox init. If you want runlevels, use
# sysvinit.

# Startup the system
::sysinit:/etc/init.d/rcS

# Put a getty on the serial port
::respawn:/sbin/getty -L ttyS000 115200 vt100 # GENERIC_SERIAL

# Stuff to do for the 3-finger salute
::ctrlaltdel:/sbin/reboot

# Stuff to do before rebooting
::shutdown:/bin/umount -a -r
::shutdown:/sbin/swapoff -a
END
d /etc/init.d 0755 0 0
x /etc/init.d/rcS 0755 0 0 1418 -
x /etc/init.d/S01udev 0755 0 0 618 -
x /etc/init.d/S80network 0755 0 0 955 -
f /etc/profile 0644 0 0 <<END
# /etc/profile: system-wide .profile file for the Bourne shells
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export LD_LIBRARY_PATH=/lib:/usr/lib
ulimit -s 1024
export PS1='[\u@\h \W]\$ '
END
f /etc/fstab 0644 0 0 <<END
# <file system>	<mount pt>	<type>	<options>	<dump>	<pass>
proc		/proc		proc	defaults	0	0
tmpfs		/tmp		tmpfs	defaults	0	0
tmpfs		/var		tmpfs	defaults	0	0
sysfs		/sys		sysfs	defaults	0	0
END
l /etc/mtab -> /proc/mounts
f /etc/shells 0644 0 0 <<END
/bin/sh
/bin/ash
END
f /etc/issue 0644 0 0 Welcome to @hw@
f /etc/services 0644 0 0 <<END
telnet		23/tcp
http		80/tcp		www
END
f /etc/protocols 0644 0 0 <<END
ip	0	IP
icmp	1	ICMP
tcp	6	TCP
udp	17	UDP
END
d /etc/config 0755 0 0
f /etc/config/network 0644 0 0 <<END
config interface 'loopback'
	option ifname 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'lan'
	option ifname '@ifname@'
	option proto 'dhcp'
	option macaddr '@mac@'
END
f /etc/config/system 0644 0 0 <<END
config system
	option hostname '@hostname@'
	option timezone 'CST-8'
END
f /etc/udhcpc.script 0755 0 0 <<END
#!/bin/sh
[ -z "$1" ] && echo "Error: should be called from udhcpc" && exit 1
RESOLV_CONF="/etc/resolv.conf"
case "$1" in
	deconfig) /sbin/ifconfig $interface 0.0.0.0 ;;
	renew|bound) /sbin/ifconfig $interface $ip netmask $subnet ;;
esac
exit 0
END
d /home 0755 0 0
d /home/@admin@ 0755 1000 1000
d /root 0700 0 0
d /mnt 0755 0 0
d /mnt/mtd 0755 0 0
d /mnt/mtd/Config 0755 0 0
f /mnt/mtd/Config/Account1 0644 0 0 <<END
{ "Users" : [ { "Name" : "admin", "Group" : "admin", "Sharable" : true, "Reserved" : true } ] }
END
d /mnt/mtd/Log 0755 0 0
d /opt 0755 0 0
d /app 0755 0 0
d /www 0755 0 0
f /www/index.html 0644 0 0 <<END
<html><head><meta http-equiv="refresh" content="0; URL=/login.html"></head></html>
END
d /var 0755 0 0
d /var/run 0755 0 0
f /var/run/@web@.pid 0644 0 0
d /var/log 0755 0 0
f /var/log/messages 0644 0 0
d /var/lock 0755 0 0
d /var/tmp 0777 0 0
d /var/spool 0755 0 0
d /var/lib 0755 0 0
d /tmp 1777 0 0
d /dev 0755 0 0
c /dev/null 1 3 0666 0 0
c /dev/zero 1 5 0666 0 0
c /dev/random 1 8 0666 0 0
c /dev/urandom 1 9 0666 0 0
c /dev/mem 1 1 0640 0 0
c /dev/kmsg 1 11 0644 0 0
c /dev/tty 5 0 0666 0 0
c /dev/console 5 1 0600 0 0
c /dev/ptmx 5 2 0666 0 0
c /dev/ttyS000 4 64 0660 0 0
c /dev/ttyS0 4 64 0660 0 0
c /dev/watchdog 10 130 0600 0 0
c /dev/mtd0 90 0 0640 0 0
c /dev/mtd0ro 90 1 0640 0 0
c /dev/mtd1 90 2 0640 0 0
c /dev/mtd1ro 90 3 0640 0 0
c /dev/mtd2 90 4 0640 0 0
c /dev/mtd2ro 90 5 0640 0 0
c /dev/mtd3 90 6 0640 0 0
c /dev/mtd3ro 90 7 0640 0 0
c /dev/mtd4 90 8 0640 0 0
c /dev/mtd5 90 10 0640 0 0
b /dev/mtdblock0 31 0 0640 0 0
b /dev/mtdblock1 31 1 0640 0 0
b /dev/mtdblock2 31 2 0640 0 0
b /dev/mtdblock3 31 3 0640 0 0
b /dev/mtdblock4 31 4 0640 0 0
b /dev/mtdblock5 31 5 0640 0 0
d /dev/pts 0755 0 0
d /dev/shm 1777 0 0
d /dev/misc 0755 0 0
l /dev/root -> mtdblock2
d /proc 0555 0 0
g /proc/cpuinfo cpuinfo
g /proc/meminfo meminfo
g /proc/uptime uptime
g /proc/loadavg loadavg
g /proc/version version
l /proc/mounts -> self/mounts
g /proc/stat stat
g /proc/cmdline cmdline
g /proc/filesystems filesystems
f /proc/mtd 0444 0 0 <<END
dev:    size   erasesize  name
mtd0: 00040000 00010000 "boot"
mtd1: 00180000 00010000 "kernel"
mtd2: 00500000 00010000 "rootfs"
mtd3: 00100000 00010000 "config"
mtd4: 00040000 00010000 "factory"
mtd5: 00300000 00010000 "app"
END
d /proc/net 0555 0 0
g /proc/net/dev net_dev
g /proc/net/route net_route
g /proc/net/tcp net_tcp
d /proc/sys 0555 0 0
d /proc/sys/kernel 0555 0 0
g /proc/sys/kernel/hostname hostname 0644 0 0
g /proc/sys/kernel/osrelease kernel_release
d /sys 0755 0 0
d /sys/class 0755 0 0
d /sys/class/net 0755 0 0
d /sys/class/net/@ifname@ 0755 0 0
g /sys/class/net/@ifname@/address mac
f /sys/class/net/@ifname@/mtu 0644 0 0 1500
d /sys/class/net/lo 0755 0 0
f /sys/class/net/lo/address 0444 0 0 00:00:00:00:00:00
d /sys/devices 0755 0 0
d /sys/kernel 0755 0 0
d /sys/block 0755 0 0
