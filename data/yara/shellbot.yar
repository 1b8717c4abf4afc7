/* hanipo: Perl IRC "ShellBot" (Stealth/Perl bot family seen with
 * outlaw-style kits).  Written for hanipo from public descriptions. */
rule hanipo_shellbot
{
    meta:
        family = "shellbot"
        priority = 30
        description = "Perl IRC ShellBot"
    strings:
        $name = "shellbot" ascii nocase
        $srv = "$servidor" ascii
        $priv = "PRIVMSG" ascii
        $adms = "my @adms" ascii
        $nick = "NICK" ascii fullword
        $sock = "IO::Socket::INET" ascii
        $perl = "#!/usr/bin/perl" ascii
        $scan = "portscan" ascii
    condition:
        ($perl at 0 and 3 of them) or 4 of them
}
