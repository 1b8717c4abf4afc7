/* hanipo: XOR.DDoS Linux bot (gcc.sh cron persistence, libudev.so copy).
 * Written for hanipo from public descriptions of the family. */
rule hanipo_xorddos
{
    meta:
        family = "xorddos"
        priority = 80
        description = "XOR.DDoS Linux DDoS bot"
    strings:
        $key = "BB2FA36AAA9541F0" ascii
        $cron = "/etc/cron.hourly/gcc.sh" ascii
        $udev = "/lib/libudev.so" ascii
        $pid = "/var/run/gcc.pid" ascii
        $sed = "sed -i '/\\/etc\\/cron.hourly\\/gcc.sh/d'" ascii
    condition:
        $key or (uint32(0) == 0x464c457f and 2 of them) or 3 of them
}
