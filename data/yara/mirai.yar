/* hanipo: Mirai and its many descendants (busybox check, watchdog,
 * attack vectors, killer).  Written for hanipo from public descriptions. */
rule hanipo_mirai
{
    meta:
        family = "mirai"
        priority = 60
        description = "Mirai IoT bot and variants"
    strings:
        $bb = "/bin/busybox MIRAI" ascii
        $applet = "MIRAI: applet not found" ascii
        $wd1 = "/dev/watchdog" ascii
        $wd2 = "/dev/misc/watchdog" ascii
        $cdn = "POST /cdn-cgi/" ascii
        $tse = "TSource Engine Query" ascii
        $tbl = "LCOGQGPTGP" ascii
        $dvr = "dvrHelper" ascii
        $tcp = "/proc/net/tcp" ascii
    condition:
        $bb or $applet or (uint32(0) == 0x464c457f and 2 of them) or 3 of them
}
