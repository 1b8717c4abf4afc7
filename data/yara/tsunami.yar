/* hanipo: Tsunami / Kaiten IRC bots (NOTICE replies, PAN/KILLALL verbs).
 * Written for hanipo from public descriptions of the family. */
rule hanipo_tsunami
{
    meta:
        family = "tsunami"
        priority = 40
        description = "Tsunami / Kaiten IRC bot"
    strings:
        $notice = "NOTICE %s :" ascii
        $kaiten = "Kaiten" ascii nocase
        $tsunami = "TSUNAMI" ascii
        $pan = "PAN <target>" ascii
        $killall = "KILLALL" ascii fullword
        $unk = ":Unknown command" ascii
        $spoofs = "GETSPOOFS" ascii
    condition:
        (uint32(0) == 0x464c457f and 2 of them) or 3 of them
}
