/* hanipo: Gafgyt / BASHLITE / Qbot IRC-less bots (plain-text C2 verbs).
 * Written for hanipo from public descriptions of the family. */
rule hanipo_gafgyt
{
    meta:
        family = "gafgyt"
        priority = 50
        description = "Gafgyt / BASHLITE bot"
    strings:
        $ping = "PING" ascii fullword
        $ip = "GETLOCALIP" ascii
        $http = "HTTPFLOOD" ascii
        $udp = "UDPRAW" ascii
        $lol = "LOLNOGTFO" ascii
        $kill = "KILLATTK" ascii
        $junk = "JUNK" ascii fullword
        $hold = "HOLD" ascii fullword
        $color = "[1;37m" ascii
        $gay = "gayfgt" ascii nocase
    condition:
        $lol or $gay or (uint32(0) == 0x464c457f and 3 of them) or 4 of them
}
