/* hanipo: WannaCry ransomware (PE dropper / encryptor and its resources).
 * Written for hanipo from public descriptions of the family. */
rule hanipo_wannacry
{
    meta:
        family = "wannacry"
        priority = 90
        description = "WannaCry / WanaCrypt0r ransomware"
    strings:
        $s1 = "WanaCrypt0r" ascii wide
        $s2 = "WNcry@2ol7" ascii
        $s3 = "tasksche.exe" ascii wide
        $s4 = "mssecsvc.exe" ascii wide
        $s5 = "WANACRY!" ascii
        $s6 = ".wnry" ascii wide
        $s7 = "msg/m_english.wnry" ascii
    condition:
        (uint16(0) == 0x5a4d and 2 of them) or 3 of them
}
