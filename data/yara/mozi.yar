/* hanipo: Mozi P2P IoT botnet (DHT bootstrap nodes, config tags).
 * Written for hanipo from public descriptions of the family. */
rule hanipo_mozi
{
    meta:
        family = "mozi"
        priority = 70
        description = "Mozi P2P botnet"
    strings:
        $tag_ss = "[ss]" ascii
        $tag_cpu = "[cpu]" ascii
        $tag_hp = "[hp]" ascii
        $name = "Mozi" ascii
        $dht1 = "dht.transmissionbt.com" ascii
        $dht2 = "router.bittorrent.com" ascii
        $path = "/usr/networks" ascii
    condition:
        (uint32(0) == 0x464c457f and 2 of them) or 3 of them
}
