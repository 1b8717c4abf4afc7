/* hanipo: generic downloader script ("bins.sh"): fetches a binary per
 * architecture, makes it executable and runs it.  Lowest priority: any
 * specific family in the same file wins.  Written for hanipo. */
rule hanipo_shell_dropper
{
    meta:
        family = "shell-dropper"
        priority = 1
        description = "Shell script that downloads and runs binaries"
    strings:
        $dl_wget = /wget[ \t]/ ascii
        $dl_curl = /curl[ \t]/ ascii
        $dl_tftp = /tftp[ \t]/ ascii
        $dl_ftpget = /ftpget[ \t]/ ascii
        $chmod = /chmod[ \t]+(\+x|[0-7]{3,4})/ ascii
        $exec = /(^|[ \t;&|(])\.\/[A-Za-z0-9_.\-]+/ ascii
        $arch_arm = ".arm" ascii
        $arch_arm7 = "arm7" ascii
        $arch_mips = "mips" ascii
        $arch_mpsl = "mpsl" ascii
        $arch_x86 = "x86" ascii
        $arch_ppc = "ppc" ascii
        $arch_m68k = "m68k" ascii
        $arch_sh4 = "sh4" ascii
        $arch_spc = "spc" ascii
    condition:
        uint32(0) != 0x464c457f and
        (#dl_wget + #dl_curl + #dl_tftp + #dl_ftpget >= 1) and
        (
            ((#dl_wget + #dl_curl + #dl_tftp + #dl_ftpget >= 3) and $chmod and $exec) or
            4 of ($arch_*)
        )
}
