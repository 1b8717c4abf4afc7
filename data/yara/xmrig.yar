/* hanipo: XMRig-style Monero miners (binaries and their config.json).
 * Written for hanipo from public knowledge of the miner's options. */
rule hanipo_xmrig
{
    meta:
        family = "xmrig"
        priority = 20
        description = "XMRig-style cryptocurrency miner"
    strings:
        $name = "xmrig" ascii nocase
        $stratum = "stratum+tcp://" ascii
        $donate = "donate-level" ascii
        $rx = "randomx" ascii nocase
        $pools = "\"pools\":" ascii
        $cn = "cryptonight" ascii nocase
        $prio = "--cpu-priority" ascii
    condition:
        (uint32(0) == 0x464c457f and 2 of them) or 3 of them
}
