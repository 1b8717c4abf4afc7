/*
 * webclass_benign_apps.h - legitimate requests the classifier must leave alone (test_webclass.c).
 *
 * A false-positive audit: requests as browsers, mobile apps and API clients send them to the
 * products the rules name (WordPress, phpMyAdmin, Joomla, Drupal, Magento, Grafana, Kibana,
 * Jenkins, GitLab, Gitea, Confluence, Jira, Nextcloud, webmail, Exchange, router, camera and NAS
 * UIs, Kubernetes, registries, Prometheus, SOAP services, uploads, search forms, OAuth, health
 * checks).  hanipo's high-interaction mode puts the classifier in front of real servers, so their
 * users' traffic passes through it too.  Grouped by application; each group says what it is.
 * Left out on purpose: logins whose bytes are one dictionary guess (a wp-login.php POST, an
 * xmlrpc wp.getUsersBlogs, a Basic admin:PASSWORD header) and bodies that are exactly an
 * injection (";ls" after a command).
 */
#ifndef HP_TEST_WEBCLASS_BENIGN_APPS_H
#define HP_TEST_WEBCLASS_BENIGN_APPS_H

#define FPA_CHROME                                                                                           \
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "          \
    "Chrome/124.0.0.0 Safari/537.36\r\nsec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", "     \
    "\"Not-A.Brand\";v=\"99\"\r\nsec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Windows\"\r\n"
#define FPA_FIREFOX "User-Agent: Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n"
#define FPA_SAFARI                                                                                           \
    "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "  \
    "Version/17.4.1 Safari/605.1.15\r\n"
#define FPA_NAV                                                                                              \
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;"    \
    "q=0.8,application/signed-exchange;v=b3;q=0.7\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: "   \
    "gzip, deflate, br, zstd\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: " \
    "navigate\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-User: ?1\r\nConnection: keep-alive\r\n"
#define FPA_XHR                                                                                              \
    "Accept: application/json, text/javascript, */*; q=0.01\r\nAccept-Language: en-US,en;q=0.9\r\n"         \
    "Accept-Encoding: gzip, deflate, br\r\nX-Requested-With: XMLHttpRequest\r\nSec-Fetch-Dest: empty\r\n"    \
    "Sec-Fetch-Mode: cors\r\nSec-Fetch-Site: same-origin\r\n"
#define FPA_FETCH                                                                                            \
    "Accept: application/json, text/plain, */*\r\nAccept-Language: en-GB,en;q=0.8\r\nAccept-Encoding: "      \
    "gzip, deflate, br\r\nSec-Fetch-Dest: empty\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: same-origin\r\n"


/* A phone photo's first bytes (EXIF from an iPhone), for the upload forms */
#define FPA_JPEG                                                                                             \
    "\377\330\377\341\014EExif\001\001MM\001*\001\001\001\010\001\013\001\017"                                  \
    "\001\002\001\001\001\006Apple\001iPhone 13\001\377\333\001C\001\003\002\002\002\002\002\003\002\002\002"    \
    "\003\003\003\003\004\006\004\004\004\004\004\010\006\006\005\006\t\010\n"                                \
    "\n\t\010\t\t\n\014\017\014\n\013\016\013\t\t\r\021\r\016\017\020\020\021\020\n"                     \
    "\014\022\023\022\020\023\017\020\020\020\377\300\021\010\014@\t0\003\001\"\002\021\001\003\021\001\377" \
    "\332\014\003\001\002\021\003\021?\362\212(\242\212\377\331"

static const char *const benign_apps[] = {
    /* WordPress: admin pages, admin-ajax actions, the REST API with a nonce, xmlrpc from the mobile app */
    "GET /wp-admin/ HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://blog.example.com/wp-login.php\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36ded"
    "d4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aa"
    "bfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; w"
    "p-settings-time-1=1714390000\r\n\r\n",
    "GET /wp-admin/edit.php?post_type=page&orderby=title&order=asc HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_FIREFOX FPA_NAV
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "GET /wp-admin/post.php?post=1234&action=edit&classic-editor HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_CHROME FPA_NAV
    "Referer: https://blog.example.com/wp-admin/edit.php\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a"
    "36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4f"
    "d12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinym"
    "ce; wp-settings-time-1=1714390000\r\n\r\n",
    "GET /wp-admin/plugins.php?plugin_status=active&paged=1 HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_CHROME
    FPA_NAV "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "GET /wp-admin/options-general.php?settings-updated=true HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_SAFARI
    FPA_NAV "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "GET /wp-admin/admin.php?page=wc-admin&path=%2Fanalytics%2Foverview HTTP/1.1\r\n" "Host: shop.example.com\r\n"
    FPA_CHROME FPA_NAV
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "GET /wp-admin/upload.php?mode=grid HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Origin: https://blog.example.com\r\nReferer: https://blog.example.com/wp-admin/post.php?post=1234&act"
    "ion=edit\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMu"
    "HbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8db"
    "c7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 404\r\n\r\ndata%5Bwp-refresh-post-lock%5D%5Block%5D=1714390000%3A1&data%5Bwp-refresh-"
    "post-lock%5D%5Bpost_id%5D=1234&data%5Bwp_autosave%5D%5Bpost_id%5D=1234&data%5Bwp_autosave%5D%5Bpost_t"
    "itle%5D=Union+meeting+notes%3A+select+committee&data%5Bwp_autosave%5D%5Bcontent%5D=%3Cp%3EWe%27ll+mee"
    "t+Tuesday%3B+bring+the+O%27Brien+report.%3C%2Fp%3E&interval=60&_nonce=4254770f58&action=heartbeat&scr"
    "een_id=post&has_focus=false",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Referer: https://blog.example.com/wp-admin/upload.php\r\nCookie: wordpress_logged_in_8f14e45fceea167a"
    "5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a"
    "4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtin"
    "ymce; wp-settings-time-1=1714390000\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8"
    "\r\nContent-Length: 128\r\n\r\naction=query-attachments&post_id=0&query%5Borderby%5D=date&query%5Bord"
    "er%5D=DESC&query%5Bposts_per_page%5D=80&query%5Bpaged%5D=1",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_FIREFOX FPA_XHR
    "Referer: https://blog.example.com/wp-admin/edit.php\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a"
    "36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4f"
    "d12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinym"
    "ce; wp-settings-time-1=1714390000\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r"
    "\nContent-Length: 292\r\n\r\npost_title=Hello+world&post_name=hello-world&mm=05&jj=02&aa=2024&hh=10&m"
    "n=15&ss=00&post_author=1&comment_status=open&_status=publish&post_category%5B%5D=1&tax_input%5Bpost_t"
    "ag%5D=news%2C+union&action=inline-save&post_type=post&post_view=list&screen=edit-post&post_ID=1&_inli"
    "ne_edit=4254770f58",
    "GET /wp-json/wp/v2/posts?per_page=10&_embed=1&status=publish&orderby=modified&_locale=user HTTP/1.1\r"
    "\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 4254770f58\r\nReferer: https://blog.example.com/wp-admin/site-editor.php\r\n"
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "POST /wp-json/wp/v2/posts/1234?_locale=user HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 4254770f58\r\nX-HTTP-Method-Override: PUT\r\nOrigin: https://blog.example.com\r\n"
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/json\r\nContent-Length: 328\r\n\r\n"
    "{\"id\":1234,\"title\":\"Quarterly update\",\"status\":\"draft\",\"content\":\"<!-- wp:paragraph -->\\"
    "n<p>Sales of the <em>Union</em> line grew; see the table below.</p>\\n<!-- /wp:paragraph -->\\n\\n<!-"
    "- wp:table -->\\n<figure class=\\\"wp-block-table\\\"><table><tbody><tr><td>Q1</td><td>12%</td></tr><"
    "/tbody></table></figure>\\n<!-- /wp:table -->\"}",
    "GET /wp-json/wp/v2/users/me?context=edit&_locale=user HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_FIREFOX
    FPA_FETCH
    "X-WP-Nonce: 4254770f58\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C171500"
    "0000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f1694"
    "7ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=171439"
    "0000\r\n\r\n",
    "GET /wp-json/oembed/1.0/proxy?url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DdQw4w9WgXcQ&_locale=use"
    "r HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 4254770f58\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C171500"
    "0000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f1694"
    "7ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=171439"
    "0000\r\n\r\n",
    "POST /wp-json/wp/v2/media?_locale=user HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 4254770f58\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C171500"
    "0000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f1694"
    "7ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=171439"
    "0000\r\nContent-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Length: 335\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"IMG_2041.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n\r\n" FPA_JPEG "\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST /wp-admin/async-upload.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_FIREFOX FPA_XHR
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n"
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Length: 863\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"name\"\r\n\r\nquarterly-report.pdf\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"action\"\r\n"
    "\r\nupload-attachment\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"_wpnonce\"\r\n\r\n4254770f58\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"post_id\"\r\n"
    "\r\n1234\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"async-"
    "upload\"; filename=\"quarterly-report.pdf\"\r\nContent-Type: application/pdf\r\n"
    "\r\n%PDF-1.7\n%\342\343\317\323\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\n"
    "endobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\n"
    "endobj\ntrailer\n<< /Root 1 0 R /Size 4 >>\n%%EOF\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "GET /wp-login.php?action=logout&_wpnonce=4254770f58 HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_CHROME
    FPA_NAV "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2HP"
    "cHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-setti"
    "ngs-1=libraryContent%3Dbrowse%26editor%3Dtinymce; wp-settings-time-1=1714390000\r\n" "\r\n",
    "POST /xmlrpc.php HTTP/1.1\r\nHost: blog.example.com\r\nUser-Agent: wp-android/24.8 (Android 14; en_US"
    "; Google Pixel 8)\r\nAccept: */*\r\nContent-Type: text/xml\r\n"
    "Content-Length: 437\r\n\r\n<?xml version=\"1.0\"?>\n<methodCall><methodName>wp.getPosts</methodName><"
    "params><param><value><int>1</int></value></param><param><value><string>alice</string></value></param>"
    "<param><value><string>v7#Lq!m2Zr</string></value></param><param><value><struct><member><name>number</"
    "name><value><int>20</int></value></member><member><name>post_type</name><value><string>post</string><"
    "/value></member></struct></value></param></params></methodCall>",
    "POST /xmlrpc.php?for=jetpack&token=prvDd53x83rz%3A1%3A1&timestamp=1714390000&nonce=jZZZZGeoZD&body-ha"
    "sh=MENcKHVmDGAkJiG8XnBE3NnYJoQ%3D&signature=9WmXeHH2fdeeTFJGvVvQe1sKhBN%3D HTTP/1.1\r\n"
    "Host: blog.example.com\r\nUser-Agent: Jetpack by WordPress.com\r\n"
    "Accept: */*\r\nContent-Type: text/xml\r\nContent-Length: 112\r\n"
    "\r\n<?xml version=\"1.0\"?>\n<methodCall><methodName>jetpack.featuresEnabled</methodName><params></pa"
    "rams></methodCall>",
    "GET /wp-cron.php?doing_wp_cron=1714390000.1234560173034667968750 HTTP/1.1\r\n"
    "Host: blog.example.com\r\nUser-Agent: WordPress/6.5.2; https://blog.example.com\r\n" "Accept: */*\r\n\r\n",
    "GET /wp-content/themes/twentytwentyfour/style.css?ver=1.1 HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_SAFARI "Accept: text/css,*/*;q=0.1\r\nReferer: https://blog.example.com/\r\n" "\r\n",
    "GET /wp-content/uploads/2024/05/IMG_2041-1024x768.jpg HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_CHROME
    "Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8\r\n"
    "Referer: https://blog.example.com/2024/05/02/quarterly-update/\r\n" "\r\n",
    "GET /?s=select+committee+union+vote HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_FIREFOX FPA_NAV "\r\n",
    "POST /wp-comments-post.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://blog.example.com/2024/05/02/quarterly-update/\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 297\r\n"
    "\r\ncomment=Great+post%21+I%27d+add+that+%22SELECT+%2A+FROM+orders%22+won%27t+scale+--+use+an+index%3"
    "B+also%2C+cat+%2Fproc%2Fmeminfo+showed+2+GB+free.&author=Siobhan+O%27Brien&email=siobhan%40example.ne"
    "t&url=https%3A%2F%2Fobrien.example.net%2F&submit=Post+Comment&comment_post_ID=1234&comment_parent=0",
    /* phpMyAdmin navigation, login and an ordinary SQL query from the SQL tab */
    "GET /phpmyadmin/index.php?route=/database/structure&db=shop HTTP/1.1\r\n" "Host: db.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://db.example.com/phpmyadmin/index.php?route=/\r\n"
    "Cookie: phpMyAdmin=b40928b5b7a767c76fb008f86bebb273; pma_lang=en; pmaUser-1=OeMVNen5n1Ae6pWzpF1qH6Yyt"
    "wMe4LbyoVFz8uZd%253D; pma_console_mode=collapse\r\n\r\n",
    "GET /phpmyadmin/index.php?route=/sql&db=shop&table=orders&pos=0&ajax_request=true&ajax_page_request=t"
    "rue HTTP/1.1\r\nHost: db.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: phpMyAdmin=b40928b5b7a767c76fb008f86bebb273; pma_lang=en; pmaUser-1=OeMVNen5n1Ae6pWzpF1qH6Yyt"
    "wMe4LbyoVFz8uZd%253D; pma_console_mode=collapse\r\n\r\n",
    "POST /phpmyadmin/index.php?route=/navigation&ajax_request=1 HTTP/1.1\r\n" "Host: db.example.com\r\n"
    FPA_CHROME FPA_XHR
    "Cookie: phpMyAdmin=b40928b5b7a767c76fb008f86bebb273; pma_lang=en; pmaUser-1=OeMVNen5n1Ae6pWzpF1qH6Yyt"
    "wMe4LbyoVFz8uZd%253D; pma_console_mode=collapse\r\nContent-Type: application/x-www-form-urlencoded; c"
    "harset=UTF-8\r\nContent-Length: 187\r\n\r\nserver=1&aPath=cm9vdA%3D%3D.c2hvcA%3D%3D&vPath=cm9vdA%3D%3"
    "D.c2hvcA%3D%3D&pos=0&pos2_name=&pos2_value=&searchClause=&searchClause2=&ajax_request=true&token=c255"
    "404e4fb440034d6608697a8d41be",
    "POST /phpmyadmin/index.php?route=/import HTTP/1.1\r\nHost: db.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: phpMyAdmin=b40928b5b7a767c76fb008f86bebb273; pma_lang=en; pmaUser-1=OeMVNen5n1Ae6pWzpF1qH6Yyt"
    "wMe4LbyoVFz8uZd%253D; pma_console_mode=collapse\r\nContent-Type: application/x-www-form-urlencoded; c"
    "harset=UTF-8\r\nContent-Length: 215\r\n\r\ndb=shop&table=customers&token=c255404e4fb440034d6608697a8d"
    "41be&sql_query=SELECT+id%2C+last_name%2C+email+FROM+customers+WHERE+last_name+%3D+%27O%27%27Brien%27+"
    "ORDER+BY+id+DESC+LIMIT+25&show_query=1&ajax_request=true",
    "GET /phpmyadmin/themes/pmahomme/img/logo_left.png HTTP/1.1\r\n" "Host: db.example.com\r\n" FPA_CHROME
    "Accept: image/avif,image/webp,*/*\r\nReferer: https://db.example.com/phpmyadmin/index.php?route=/\r\n" "\r\n",
    "GET /phpmyadmin/index.php?route=/table/export&db=shop&table=orders&single_table=true HTTP/1.1\r\n"
    "Host: db.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: phpMyAdmin=b40928b5b7a767c76fb008f86bebb273; pma_lang=en; pmaUser-1=OeMVNen5n1Ae6pWzpF1qH6Yyt"
    "wMe4LbyoVFz8uZd%253D; pma_console_mode=collapse\r\n\r\n",
    /* Joomla administrator and site, its v4 API with a token */
    "GET /administrator/index.php?option=com_content&view=articles&filter[search]=union&list[fullordering]"
    "=a.id%20DESC HTTP/1.1\r\nHost: www.example.org\r\n" FPA_CHROME FPA_NAV
    "Cookie: d440e50454f31af3176813e02ea68ef7=86e4d3cea27d26934b484e73cf\r\n" "\r\n",
    "POST /administrator/index.php HTTP/1.1\r\nHost: www.example.org\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: d440e50454f31af3176813e02ea68ef7=86e4d3cea27d26934b484e73cf\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 123\r\n"
    "\r\nusername=webmaster&passwd=T3a-Kettle%219&option=com_login&task=login&return=aW5kZXgucGhw&575dcad6"
    "ba2b0aee0ca923732881584d=1",
    "GET /index.php?option=com_content&view=article&id=12:annual-meeting&catid=3&Itemid=101 HTTP/1.1\r\n"
    "Host: www.example.org\r\n" FPA_SAFARI FPA_NAV "\r\n",
    "GET /api/index.php/v1/content/articles?page[limit]=20&filter[state]=1 HTTP/1.1\r\n"
    "Host: www.example.org\r\nUser-Agent: python-requests/2.31.0\r\n"
    "Accept: application/vnd.api+json\r\nX-Joomla-Token: c2hhMjU2OjQyOmM1YjA3YjZkNjM4ZWU0N2Y3YjM0NmQ2NmE2Y"
    "jE5ZWNjMWE2YjM1ZTQxYzY2NjU3NmU3ZTY5MmYwMTBjYjQ3ODI=\r\n\r\n",
    "POST /index.php?option=com_users&task=user.login&Itemid=101 HTTP/1.1\r\n" "Host: www.example.org\r\n"
    FPA_CHROME FPA_NAV "Cookie: d440e50454f31af3176813e02ea68ef7=86e4d3cea27d26934b484e73cf\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 172\r\n"
    "\r\nusername=maria&password=Lavender%26Rain7&remember=yes&return=aHR0cHM6Ly93d3cuZXhhbXBsZS5vcmcvaW5k"
    "ZXgucGhwP29wdGlvbj1jb21fY29udGVudA%3D%3D&8c4fa2815d2802827283e0ad84173581=1",
    /* Drupal: login, content admin, node edit, the user picture AJAX upload, JSON:API */
    "POST /user/login?destination=/admin/content HTTP/1.1\r\nHost: cms.example.org\r\n" FPA_FIREFOX FPA_NAV
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 131\r\n"
    "\r\nname=editor&pass=Gr33n-Tea%26Lemon&form_build_id=form-FyCmmdKTxp_TkSF2RCdKDFRuNw5GCf-hA6ILI8gJhea"
    "&form_id=user_login_form&op=Log+in",
    "GET /admin/content?title=union&type=article&status=1&langcode=All&order=changed&sort=desc HTTP/1.1\r\n"
    "Host: cms.example.org\r\n" FPA_CHROME FPA_NAV
    "Cookie: SSESS569969e58b081006f7e3dfc967a64cb1=QBJg3UHKwkflF6XUi5AhuqpfEnbtXAqwK8jZfALhLSz\r\n" "\r\n",
    "POST /node/42/edit?destination=/admin/content HTTP/1.1\r\nHost: cms.example.org\r\n" FPA_CHROME FPA_NAV
    "Cookie: SSESS569969e58b081006f7e3dfc967a64cb1=QBJg3UHKwkflF6XUi5AhuqpfEnbtXAqwK8jZfALhLSz\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 397\r\n"
    "\r\nchanged=1714390000&title%5B0%5D%5Bvalue%5D=Select+committee+hearing&body%5B0%5D%5Bsummary%5D=&bod"
    "y%5B0%5D%5Bvalue%5D=%3Cp%3EThe+hearing+on+the+O%27Brien+proposal+is+on+Monday.%3C%2Fp%3E&body%5B0%5D%"
    "5Bformat%5D=basic_html&form_build_id=form-d6_wJ9kFZJSqgmRB9H-iMb-lk777PZnK8Cl6J5ixaaJ&form_token=LShu"
    "QjOud_-yDUA-5zmS1swoPqApryPZBlgvIyxJu2j&form_id=node_article_edit_form&status%5Bvalue%5D=1&op=Save",
    "POST /user/7/edit?element_parents=user_picture/widget/0&ajax_form=1&_wrapper_format=drupal_ajax HTTP/"
    "1.1\r\nHost: cms.example.org\r\n" FPA_CHROME FPA_XHR
    "Cookie: SSESS569969e58b081006f7e3dfc967a64cb1=QBJg3UHKwkflF6XUi5AhuqpfEnbtXAqwK8jZfALhLSz\r\n"
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Length: 982\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"form_build_id\"\r\n\r\n"
    "form-GjNGkTfi3oYv2DzaKG05Rk-GQV81rkmghzem9yPVUJa\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"form_token\"\r\n\r\n_c5q52RYfLWrLoevhZC0x0awirH_juQbLifxz53nCQ"
    "E\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"form_id\"\r\n"
    "\r\nuser_form\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"files[user_picture_0]\"; filename=\"portrait.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n\r\n" FPA_JPEG "\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"_triggering_elemen"
    "t_name\"\r\n\r\nuser_picture_0_upload_button\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"_drupal_ajax\"\r\n\r\n"
    "1\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "GET /jsonapi/node/article?filter[status]=1&sort=-created&page[limit]=10&fields[node--article]=title,c"
    "reated HTTP/1.1\r\nHost: cms.example.org\r\nUser-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like "
    "Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148\r\n"
    "Accept: application/vnd.api+json\r\n\r\n",
    "GET /admin/config/system/site-information HTTP/1.1\r\nHost: cms.example.org\r\n" FPA_SAFARI FPA_NAV
    "Cookie: SSESS569969e58b081006f7e3dfc967a64cb1=QBJg3UHKwkflF6XUi5AhuqpfEnbtXAqwK8jZfALhLSz\r\n" "\r\n",
    /* Magento and WooCommerce: cart, checkout, store API */
    "GET /customer/section/load/?sections=cart%2Cmessages%2Ccustomer&force_new_section_timestamp=true&_=17"
    "14390000123 HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: PHPSESSID=dff02cee737443e210471948d3; form_key=GETh8lMYQOymAAiT; mage-cache-sessid=true; priv"
    "ate_content_version=e8a7f770d9106fd287db7f1adbc60926\r\n\r\n",
    "POST /checkout/cart/add/uenc/aHR0cHM6Ly9zaG9wLmV4YW1wbGUuY29tL3VuaW9uLWphY2stdGVlLmh0bWw%2C/product/4"
    "2/ HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: PHPSESSID=dff02cee737443e210471948d3; form_key=GETh8lMYQOymAAiT; mage-cache-sessid=true; priv"
    "ate_content_version=e8a7f770d9106fd287db7f1adbc60926\r\nContent-Type: multipart/form-data; boundary=-"
    "---WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Length: 760\r\n"
    "\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"product\"\r\n"
    "\r\n42\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"selected"
    "_configurable_option\"\r\n\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"related_product\"\r\n\r\n"
    "\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"item\"\r\n"
    "\r\n42\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"form_key"
    "\"\r\n\r\nfMTx0MOdOQw4SG8n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"super_attribute[93]\"\r\n"
    "\r\n56\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"qty\"\r\n"
    "\r\n1\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST /rest/default/V1/guest-carts/fnL5Ofa6qD8mJ7ZDNBmJaDtDLZc5t4Uu/payment-information HTTP/1.1\r\n"
    "Host: shop.example.com\r\n" FPA_FIREFOX FPA_FETCH
    "X-Requested-With: XMLHttpRequest\r\nCookie: PHPSESSID=dff02cee737443e210471948d3; form_key=GETh8lMYQO"
    "ymAAiT; mage-cache-sessid=true; private_content_version=e8a7f770d9106fd287db7f1adbc60926\r\n"
    "Content-Type: application/json\r\nContent-Length: 371\r\n\r\n"
    "{\"cartId\":\"HF7KVMLp7hvdCTquY1XVcKGAFRFWa94H\",\"billingAddress\":{\"countryId\":\"IE\",\"region\":"
    "\"Dublin\",\"street\":[\"12 O'Connell St\"],\"telephone\":\"+353 1 555 0100\",\"postcode\":\"D01 F5P2"
    "\",\"city\":\"Dublin\",\"firstname\":\"Siobhan\",\"lastname\":\"O'Brien\",\"saveInAddressBook\":null}"
    ",\"paymentMethod\":{\"method\":\"checkmo\",\"po_number\":null,\"additional_data\":null},\"email\":\"s"
    "iobhan@example.net\"}",
    "POST /customer/account/loginPost/ HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_SAFARI FPA_NAV
    "Cookie: PHPSESSID=dff02cee737443e210471948d3; form_key=GETh8lMYQOymAAiT; mage-cache-sessid=true; priv"
    "ate_content_version=e8a7f770d9106fd287db7f1adbc60926\r\nContent-Type: application/x-www-form-urlencod"
    "ed\r\nContent-Length: 109\r\n\r\nform_key=j9wNYWx0T0zbFDte&login%5Busername%5D=siobhan%40example.net&"
    "login%5Bpassword%5D=Shamrock%232024&send=",
    "GET /catalogsearch/result/?q=union+jack+cushion+cover HTTP/1.1\r\n" "Host: shop.example.com\r\n" FPA_CHROME
    FPA_NAV "\r\n",
    "POST /?wc-ajax=update_order_review HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: woocommerce_items_in_cart=1; woocommerce_cart_hash=6be6abf0d7c1c1e21862ab8a18a89020; wp_wooco"
    "mmerce_session_73fec8df4f50947aaeb26c57d21fa5d3=t_28263dfe574de739988b886e757749%7C%7C1714562800%7C%7"
    "C1714559200%7C%7C6a2c8773e130f7eb19731662b5e803b6\r\nContent-Type: application/x-www-form-urlencoded;"
    " charset=UTF-8\r\nContent-Length: 309\r\n\r\nsecurity=1ba4168160&payment_method=stripe&country=GB&sta"
    "te=&postcode=SW1A+1AA&city=London&address=10+Downing+St&has_full_address=true&post_data=billing_first"
    "_name%3DDara%26billing_last_name%3DO%2527Neill%26billing_company%3D%26order_comments%3DLeave%2Bat%2Bt"
    "he%2Bdoor%253B%2Bring%2Btwice%2B%257C%2Bthanks%2521",
    "POST /wp-json/wc/store/v1/cart/add-item HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_FETCH
    "Nonce: adb59261ff\r\nCookie: woocommerce_items_in_cart=1; woocommerce_cart_hash=6be6abf0d7c1c1e21862a"
    "b8a18a89020; wp_woocommerce_session_73fec8df4f50947aaeb26c57d21fa5d3=t_28263dfe574de739988b886e757749"
    "%7C%7C1714562800%7C%7C1714559200%7C%7C6a2c8773e130f7eb19731662b5e803b6\r\n"
    "Content-Type: application/json\r\nContent-Length: 77\r\n\r\n{\"id\":311,\"quantity\":2,\"variation\":"
    "[{\"attribute\":\"pa_size\",\"value\":\"large\"}]}",
    "GET /?wc-ajax=get_refreshed_fragments&_=1714390000456 HTTP/1.1\r\n" "Host: shop.example.com\r\n" FPA_FIREFOX
    FPA_XHR "Cookie: woocommerce_items_in_cart=1; woocommerce_cart_hash=6be6abf0d7c1c1e21862ab8a18a89020; wp_wooco"
    "mmerce_session_73fec8df4f50947aaeb26c57d21fa5d3=t_28263dfe574de739988b886e757749%7C%7C1714562800%7C%7"
    "C1714559200%7C%7C6a2c8773e130f7eb19731662b5e803b6\r\n\r\n",
    /* Grafana UI API calls: search, dashboards, /api/ds/query with SQL and PromQL, login */
    "GET /api/search?query=node&starred=false&type=dash-db&limit=50 HTTP/1.1\r\n"
    "Host: grafana.example.com:3000\r\n" FPA_CHROME FPA_FETCH
    "X-Grafana-Org-Id: 1\r\nCookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expi"
    "ry=1714393600\r\n\r\n",
    "GET /api/dashboards/uid/rYdddlPWk HTTP/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_CHROME FPA_FETCH
    "X-Grafana-Org-Id: 1\r\nCookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expi"
    "ry=1714393600\r\n\r\n",
    "POST /api/ds/query?ds_type=mysql&requestId=Q102 HTTP/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_CHROME
    FPA_FETCH "X-Grafana-Org-Id: 1\r\nX-Dashboard-Uid: rYdddlPWk\r\nX-Panel-Id: 4\r\n"
    "Cookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expiry=1714393600\r\n"
    "Content-Type: application/json\r\nContent-Length: 376\r\n\r\n"
    "{\"queries\":[{\"refId\":\"A\",\"datasource\":{\"type\":\"mysql\",\"uid\":\"P2A3B4C5\"},\"rawSql\":\""
    "SELECT $__timeGroupAlias(created_at,$__interval), count(*) AS orders FROM orders WHERE $__timeFilter("
    "created_at) AND status IN ('paid','shipped') GROUP BY 1 ORDER BY 1\",\"format\":\"time_series\",\"raw"
    "Query\":true,\"intervalMs\":60000,\"maxDataPoints\":1200}],\"from\":\"1714368000000\",\"to\":\"171439"
    "0000000\"}",
    "POST /api/ds/query?ds_type=prometheus&requestId=Q103 HTTP/1.1\r\n" "Host: grafana.example.com:3000\r\n"
    FPA_FIREFOX FPA_FETCH
    "X-Grafana-Org-Id: 1\r\nCookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expi"
    "ry=1714393600\r\nContent-Type: application/json\r\nContent-Length: 321\r\n"
    "\r\n{\"queries\":[{\"refId\":\"A\",\"datasource\":{\"type\":\"prometheus\",\"uid\":\"prom1\"},\"expr\""
    ":\"sum by (instance) (rate(node_cpu_seconds_total{mode!=\\\"idle\\\",job=\\\"node\\\"}[$__rate_interv"
    "al]))\",\"range\":true,\"instant\":false,\"legendFormat\":\"{{instance}}\",\"interval\":\"\",\"interv"
    "alMs\":15000,\"maxDataPoints\":1100}],\"from\":\"now-6h\",\"to\":\"now\"}",
    "POST /login HTTP/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_CHROME FPA_FETCH
    "Origin: https://grafana.example.com:3000\r\nContent-Type: application/json\r\n"
    "Content-Length: 44\r\n\r\n{\"user\":\"alice\",\"password\":\"Violet.Rain-42\"}",
    "GET /d/rYdddlPWk/node-exporter-full?orgId=1&refresh=30s&from=now-6h&to=now&var-job=node&var-node=web0"
    "1:9100 HTTP/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_CHROME FPA_NAV
    "Cookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expiry=1714393600\r\n" "\r\n",
    "GET /api/datasources/proxy/uid/prom1/api/v1/label/__name__/values?start=1714368000&end=1714390000 HTT"
    "P/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_CHROME FPA_FETCH
    "Cookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expiry=1714393600\r\n" "\r\n",
    "GET /avatar/46d229b033af06a191ff2267bca9ae56 HTTP/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_CHROME
    "Accept: image/avif,image/webp,*/*\r\nCookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafan"
    "a_session_expiry=1714393600\r\n\r\n",
    "GET /api/frontend/settings HTTP/1.1\r\nHost: grafana.example.com:3000\r\n" FPA_SAFARI FPA_FETCH
    "Cookie: grafana_session=2d3c425c8d99d19bdd0b6cc60d5d32cb; grafana_session_expiry=1714393600\r\n" "\r\n",
    /* Kibana and Elasticsearch: _search with an ordinary query, console proxy, cluster health */
    "POST /logs-web-*/_search?size=50 HTTP/1.1\r\nHost: es.example.com:9200\r\n"
    "User-Agent: elasticsearch-py/8.13.0 (Python/3.11.8; elastic-transport/8.13.0)\r\n"
    "Accept: application/vnd.elasticsearch+json; compatible-with=8\r\n"
    "Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6YWFPRUVMazlNUU1hbG9yMmhDc2drRw==\r\n"
    "Content-Type: application/vnd.elasticsearch+json; compatible-with=8\r\n"
    "Content-Length: 252\r\n\r\n{\"query\":{\"bool\":{\"must\":[{\"match\":{\"message\":\"select union exe"
    "c failed\"}}],\"filter\":[{\"range\":{\"@timestamp\":{\"gte\":\"now-15m\"}}},{\"term\":{\"http.respon"
    "se.status_code\":500}}]}},\"sort\":[{\"@timestamp\":\"desc\"}],\"_source\":[\"@timestamp\",\"message\""
    ",\"url.path\"]}",
    "GET /_cluster/health?wait_for_status=yellow&timeout=50s HTTP/1.1\r\n"
    "Host: es.example.com:9200\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
    "Authorization: Basic bW9uaXRvcjpCbHVlLUZqb3JkLTg4\r\n\r\n",
    "POST /api/console/proxy?path=%2Forders%2F_search&method=GET HTTP/1.1\r\n" "Host: kibana.example.com:5601\r\n"
    FPA_CHROME FPA_FETCH
    "kbn-xsrf: kibana\r\nkbn-version: 8.13.2\r\nCookie: sid=Fe26.2**e54014c2b54b95523cf6941fa1c257c6f561c5"
    "cb347611a3ce9d97dcbee500fe*e56W8zNIQt3uL4FFQKoKGw*RDIOYQ-kVcIsgUpj6Sg9aheovEZXzUjpwVhOGu5NgyvhwvSuqK4"
    "dWGlgnoAEcTl31uGQ-dFCGAtmNtc0mRau8U**4074e3248c801bef750110c57513064d6d59291f0cde2e5738713a818d896205"
    "*heZUpYxqew88AD3dnbyJVSEDONUsSDDFRFIFIuZIxNf\r\nContent-Type: application/json\r\n"
    "Content-Length: 85\r\n\r\n{\"query\":{\"query_string\":{\"query\":\"customer.last_name:\\\"O'Brien\\\""
    " AND status:paid\"}}}",
    "POST /internal/bsearch?compress=true HTTP/1.1\r\nHost: kibana.example.com:5601\r\n" FPA_CHROME FPA_FETCH
    "kbn-xsrf: true\r\nkbn-version: 8.13.2\r\nx-elastic-internal-origin: Kibana\r\n"
    "Cookie: sid=Fe26.2**e54014c2b54b95523cf6941fa1c257c6f561c5cb347611a3ce9d97dcbee500fe*e56W8zNIQt3uL4FF"
    "QKoKGw*RDIOYQ-kVcIsgUpj6Sg9aheovEZXzUjpwVhOGu5NgyvhwvSuqK4dWGlgnoAEcTl31uGQ-dFCGAtmNtc0mRau8U**4074e3"
    "248c801bef750110c57513064d6d59291f0cde2e5738713a818d896205*heZUpYxqew88AD3dnbyJVSEDONUsSDDFRFIFIuZIxN"
    "f\r\nContent-Type: application/json\r\nContent-Length: 364\r\n"
    "\r\n{\"batch\":[{\"request\":{\"params\":{\"index\":\"logs-*\",\"body\":{\"size\":500,\"query\":{\"bo"
    "ol\":{\"filter\":[{\"multi_match\":{\"type\":\"best_fields\",\"query\":\"cat /var/log/syslog\",\"leni"
    "ent\":true}},{\"range\":{\"@timestamp\":{\"gte\":\"2024-05-02T09:00:00.000Z\",\"lte\":\"2024-05-02T09"
    ":15:00.000Z\",\"format\":\"strict_date_optional_time\"}}}]}}}}},\"options\":{\"strategy\":\"ese\",\"i"
    "sRestore\":false}}]}",
    "GET /app/discover HTTP/1.1\r\nHost: kibana.example.com:5601\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: sid=Fe26.2**e54014c2b54b95523cf6941fa1c257c6f561c5cb347611a3ce9d97dcbee500fe*e56W8zNIQt3uL4FF"
    "QKoKGw*RDIOYQ-kVcIsgUpj6Sg9aheovEZXzUjpwVhOGu5NgyvhwvSuqK4dWGlgnoAEcTl31uGQ-dFCGAtmNtc0mRau8U**4074e3"
    "248c801bef750110c57513064d6d59291f0cde2e5738713a818d896205*heZUpYxqew88AD3dnbyJVSEDONUsSDDFRFIFIuZIxN"
    "f\r\n\r\n",
    "POST /app-logs-2024.05.02/_doc HTTP/1.1\r\nHost: es.example.com:9200\r\n"
    "User-Agent: Fluent-Bit\r\nAuthorization: Basic Zmx1ZW50Yml0OlN0b25lLUxha2UtMTk=\r\n"
    "Content-Type: application/json\r\nContent-Length: 152\r\n\r\n"
    "{\"@timestamp\":\"2024-05-02T09:11:12.345Z\",\"log\":\"GET /api/orders?id=42 200 12ms\",\"kubernetes\""
    ":{\"pod_name\":\"web-7d9f8b6c4-x2x9q\",\"namespace_name\":\"prod\"}}",
    /* Jenkins UI: job pages, a build with a crumb, console text, API tree queries, form validation */
    "GET /job/webapp/ HTTP/1.1\r\nHost: ci.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n" "\r\n",
    "POST /job/webapp/build?delay=0sec HTTP/1.1\r\nHost: ci.example.com\r\n" FPA_CHROME FPA_XHR
    "Jenkins-Crumb: bf3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea5ee874ae7689447ab57a68\r\n"
    "Origin: https://ci.example.com\r\nReferer: https://ci.example.com/job/webapp/\r\n"
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n" "\r\n",
    "POST /job/deploy/buildWithParameters?ENVIRONMENT=staging&BRANCH=release%2F2.4&DRY_RUN=false HTTP/1.1\r"
    "\nHost: ci.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
    "Authorization: Basic ZGVwbG95Ym90OjM1MzZjNDQ5OWQ4NjMzODZjZTEwY2Q3OWUwNDhjMDdkZDc=\r\n"
    "Jenkins-Crumb: bf3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea5ee874ae7689447ab57a68\r\n" "\r\n",
    "GET /job/webapp/lastBuild/consoleText HTTP/1.1\r\nHost: ci.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n" "\r\n",
    "GET /job/webapp/api/json?tree=builds[number,status,timestamp,id,result,duration]{0,25} HTTP/1.1\r\n"
    "Host: ci.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n" "\r\n",
    "GET /crumbIssuer/api/json HTTP/1.1\r\nHost: ci.example.com\r\n"
    "User-Agent: python-jenkins/1.8.2\r\nAuthorization: Basic ZGVwbG95Ym90Ojc1M2VkYTgzZDdjNThkZmUwZDVhMGNm"
    "MzE4NjU2YjNlNmY=\r\n\r\n",
    "POST /descriptorByName/hudson.plugins.git.UserRemoteConfig/checkUrl HTTP/1.1\r\n" "Host: ci.example.com\r\n"
    FPA_CHROME FPA_XHR "Jenkins-Crumb: bf3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea5ee874ae7689447ab57a68\r\n"
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 84\r\n\r\nvalue=https%3A%2F%2Fgit.example.com%2Fteam%2Fwebapp.git&credentialsId=git-d"
    "eploy-key",
    "POST /job/webapp/configSubmit HTTP/1.1\r\nHost: ci.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 287\r\n"
    "\r\ndescription=Builds+the+web+app&Jenkins-Crumb=bf3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea5ee874ae76"
    "89447ab57a68&json=%7B%22description%22%3A%22Builds+the+web+app%22%2C%22builder%22%3A%7B%22command%22%"
    "3A%22make+test+%26%26+make+dist%22%2C%22stapler-class%22%3A%22hudson.tasks.Shell%22%7D%7D",
    "GET /computer/api/json?tree=computer[displayName,offline,idle] HTTP/1.1\r\n" "Host: ci.example.com\r\n"
    FPA_SAFARI FPA_XHR
    "Cookie: JSESSIONID.3f2a1b0c=node0xu64sb0b17gw4d8nfsk1a7msda1.node0; screenResolution=1920x1080\r\n" "\r\n",
    /* GitLab and Gitea: UI pages, REST and GraphQL API, git over HTTP, sign-in */
    "GET /api/v4/projects?membership=true&simple=true&per_page=20&order_by=last_activity_at HTTP/1.1\r\n"
    "Host: gitlab.example.com\r\nUser-Agent: python-gitlab/4.4.0\r\n"
    "Accept: */*\r\nPRIVATE-TOKEN: glpat-_H97S-f_VAUp7_l7v21J\r\n\r\n",
    "GET /api/v4/projects/42/merge_requests?state=opened&scope=all&search=select HTTP/1.1\r\n"
    "Host: gitlab.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-CSRF-Token: XuDCFqM9-SEb1QrMur8ak3r2gGllt_zqisa_PqYomQLFzzGzmNAFY8HwSKbF6WMXE1MBvRnhmX1EoC3G_FP1z5\r"
    "\nCookie: _gitlab_session=0bade65c3b188cc102ddb8379c7ce654; known_sign_in=7xEzzoMepjuO09JWqo10y0adSwj"
    "pIx1eWy2ORtYrQbrLeAzuzRWPpTUefbno--2b49c12a4b0062983475eb46c5296f62e338d74f\r\n" "\r\n",
    "POST /api/graphql HTTP/1.1\r\nHost: gitlab.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-CSRF-Token: IBxT80NK8bTB2ABPLbPQ8Cjf5XGuSKl_6gGEBHBKxnnV-Hov48VSOuU19x5iqljHqBTn2fwxwd5kAphi2UFkSS\r"
    "\nX-GitLab-Feature-Category: code_review\r\nCookie: _gitlab_session=0bade65c3b188cc102ddb8379c7ce654;"
    " known_sign_in=7xEzzoMepjuO09JWqo10y0adSwjpIx1eWy2ORtYrQbrLeAzuzRWPpTUefbno--2b49c12a4b0062983475eb46"
    "c5296f62e338d74f\r\nContent-Type: application/json\r\nContent-Length: 457\r\n"
    "\r\n{\"operationName\":\"getMergeRequestApprovals\",\"variables\":{\"projectPath\":\"team/webapp\",\""
    "iid\":\"118\"},\"query\":\"query getMergeRequestApprovals($projectPath: ID!, $iid: String!) {\\n  pro"
    "ject(fullPath: $projectPath) {\\n    id\\n    mergeRequest(iid: $iid) {\\n      id\\n      approved\\"
    "n      approvedBy {\\n        nodes {\\n          id\\n          name\\n          __typename\\n      "
    "  }\\n        __typename\\n      }\\n      __typename\\n    }\\n    __typename\\n  }\\n}\\n\"}",
    "GET /team/webapp/-/blob/main/scripts/deploy.sh HTTP/1.1\r\nHost: gitlab.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: _gitlab_session=0bade65c3b188cc102ddb8379c7ce654; known_sign_in=7xEzzoMepjuO09JWqo10y0adSwjpI"
    "x1eWy2ORtYrQbrLeAzuzRWPpTUefbno--2b49c12a4b0062983475eb46c5296f62e338d74f\r\n" "\r\n",
    "GET /team/webapp/-/raw/main/config/settings.yml?inline=false HTTP/1.1\r\n" "Host: gitlab.example.com\r\n"
    FPA_CHROME FPA_NAV
    "Cookie: _gitlab_session=0bade65c3b188cc102ddb8379c7ce654; known_sign_in=7xEzzoMepjuO09JWqo10y0adSwjpI"
    "x1eWy2ORtYrQbrLeAzuzRWPpTUefbno--2b49c12a4b0062983475eb46c5296f62e338d74f\r\n" "\r\n",
    "POST /users/sign_in HTTP/1.1\r\nHost: gitlab.example.com\r\n" FPA_SAFARI FPA_NAV
    "Cookie: _gitlab_session=8fb2fc6791ce680ce2b27c8af6666259\r\nContent-Type: application/x-www-form-urle"
    "ncoded\r\nContent-Length: 187\r\n\r\nauthenticity_token=utzTfF_vNv7KToDsjCMEa-bhj2M5QgErZXwKDGEv6-IyP"
    "LgodLyX5UvecWEgtHDGh9HMSoAZm4N8pvgxPv9wV4&user%5Blogin%5D=alice&user%5Bpassword%5D=Maple%2BSyrup-77&u"
    "ser%5Bremember_me%5D=0",
    "POST /team/webapp/uploads HTTP/1.1\r\nHost: gitlab.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-CSRF-Token: eSB7YEUcJvR5MxCJ5rpd9OuSqcHX5S4Ti10fTDilqVh-No69OTHb9kPgZu3heeMxl1UHlSC4rR4AkXu3F0bjXR\r"
    "\nCookie: _gitlab_session=0bade65c3b188cc102ddb8379c7ce654; known_sign_in=7xEzzoMepjuO09JWqo10y0adSwj"
    "pIx1eWy2ORtYrQbrLeAzuzRWPpTUefbno--2b49c12a4b0062983475eb46c5296f62e338d74f\r\n"
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Length: 293\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"screenshot-2024-05-02.png\"\r\n"
    "Content-Type: image/png\r\n\r\n\211PNG\r\n\032\n\001\001\001\rIHDR\001\001\002\200\001\001\001\340\010"
    "\006\001\001\0015\321\334\344\001\001\001\tpHYs\001\001\013\023\001\001\013\023\001\232\234\030\001\001"
    " \001IDATx\234\355\3011\r\001\001\001\302\240\365O\355a\r\240\001\001\276\r!\001\001\001\001IEND\256B"
    "`\202\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "GET /alice/dotfiles.git/info/refs?service=git-upload-pack HTTP/1.1\r\n"
    "Host: gitea.example.com\r\nUser-Agent: git/2.43.0\r\nAccept: */*\r\n"
    "Accept-Encoding: deflate, gzip, br, zstd\r\nPragma: no-cache\r\n" "Git-Protocol: version=2\r\n\r\n",
    "POST /alice/dotfiles.git/git-upload-pack HTTP/1.1\r\nHost: gitea.example.com\r\n"
    "User-Agent: git/2.43.0\r\nAccept: application/x-git-upload-pack-result\r\n"
    "Git-Protocol: version=2\r\nContent-Type: application/x-git-upload-pack-request\r\n"
    "Content-Length: 164\r\n\r\n0014command=ls-refs\n0014agent=git/2.43.00016object-format=sha10001000bpee"
    "l\n000bsymrefs\n0014ref-prefix HEAD\n001bref-prefix refs/heads/\n" "001aref-prefix refs/tags/\n0000",
    "GET /api/v1/repos/search?q=cat&limit=10&sort=updated&order=desc HTTP/1.1\r\n"
    "Host: gitea.example.com\r\nUser-Agent: tea/0.9.2\r\nAuthorization: token 575622f856469602d1ba9f20df48"
    "75b15b0be23b\r\n\r\n",
    "GET /alice/dotfiles/src/branch/main/.bashrc HTTP/1.1\r\nHost: gitea.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: i_like_gitea=7ac193fe04072755; _csrf=NngDCMYhC7e4NsMWFiP7_jOPPzRddS7yVCx1EyGurze\r\n" "\r\n",
    "POST /user/login HTTP/1.1\r\nHost: gitea.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: i_like_gitea=adac1a4b7d0b352a; _csrf=3ZCcR1y6FFEiiEMgPB3eFkOnsVPHiK7S4PQl0kjfLk6\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 101\r\n"
    "\r\n_csrf=cxZu6m98nDfqcYxyBtUepp-ikblHCUIs4Hx4tNcT1rt&user_name=alice&password=Cobalt-Heron-5&remembe" "r=on",
    /* Confluence and Jira: normal .action and .jspa pages, REST search with CQL and JQL, macro preview */
    "GET /display/ENG/Release+Notes+2.4 HTTP/1.1\r\nHost: wiki.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    "GET /pages/viewpage.action?pageId=123456789 HTTP/1.1\r\nHost: wiki.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    "GET /dosearchsite.action?cql=siteSearch+~+%22select+statement%22+and+space+%3D+%22ENG%22&queryString="
    "select+statement HTTP/1.1\r\nHost: wiki.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    "GET /rest/api/content/search?cql=space%3DENG%20and%20type%3Dpage%20and%20title~%22union%22&limit=25&e"
    "xpand=version HTTP/1.1\r\nHost: wiki.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    "POST /rest/tinymce/1/macro/preview HTTP/1.1\r\nHost: wiki.example.com\r\n" FPA_CHROME FPA_XHR
    "X-Atlassian-Token: no-check\r\nCookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.to"
    "ken=B9594DC72AA7A6D0018F99DDCEB1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n"
    "Content-Type: application/json; charset=UTF-8\r\nContent-Length: 153\r\n"
    "\r\n{\"contentId\":\"123456789\",\"macro\":{\"name\":\"widget\",\"body\":\"\",\"params\":{\"url\":\"h"
    "ttps://www.youtube.com/watch?v=dQw4w9WgXcQ\",\"width\":\"640\",\"height\":\"360\"}}}",
    "POST /dologin.action HTTP/1.1\r\nHost: wiki.example.com\r\n" FPA_SAFARI FPA_NAV
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 122\r\n"
    "\r\nos_username=alice&os_password=Harbor-Lights-31&login=Log+in&os_destination=%2Fpages%2Fviewpage.ac"
    "tion%3FpageId%3D123456789",
    "GET /rest/api/2/search?jql=project%20%3D%20OPS%20AND%20status%20in%20(%22In%20Progress%22%2C%20Open)%"
    "20ORDER%20BY%20updated%20DESC&maxResults=50&fields=summary,status,assignee HTTP/1.1\r\n"
    "Host: jira.example.com\r\nUser-Agent: Go-http-client/1.1\r\nAccept: application/json\r\n"
    "Authorization: Bearer g4aoKhS0gNg5MaLDokmGWkoouCsaAyATtsjA6TZ1GlAq\r\n" "\r\n",
    "POST /rest/api/2/search HTTP/1.1\r\nHost: jira.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-Atlassian-Token: no-check\r\nCookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.to"
    "ken=B9594DC72AA7A6D0018F99DDCEB1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n"
    "Content-Type: application/json\r\nContent-Length: 182\r\n\r\n"
    "{\"jql\":\"assignee = currentUser() AND resolution = Unresolved AND text ~ \\\"select union\\\" ORDER"
    " BY priority DESC\",\"startAt\":0,\"maxResults\":50,\"fields\":[\"summary\",\"status\",\"priority\"]}",
    "POST /rest/api/2/issue HTTP/1.1\r\nHost: jira.example.com\r\n" FPA_FIREFOX FPA_FETCH
    "X-Atlassian-Token: no-check\r\nCookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.to"
    "ken=B9594DC72AA7A6D0018F99DDCEB1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n"
    "Content-Type: application/json\r\nContent-Length: 296\r\n\r\n"
    "{\"fields\":{\"project\":{\"key\":\"OPS\"},\"issuetype\":{\"name\":\"Bug\"},\"summary\":\"Nightly exp"
    "ort job fails\",\"description\":\"Steps:\\n1. ssh to batch01\\n2. run {{cat /var/log/export.log | gre"
    "p ERROR}}\\n3. the job exits with status 1; the cron entry is {{0 2 * * * /opt/export/run.sh}}\\n\\nE"
    "xpected: exit 0.\"}}",
    "GET /browse/OPS-1234 HTTP/1.1\r\nHost: jira.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    "GET /secure/Dashboard.jspa?selectPageId=10100 HTTP/1.1\r\nHost: jira.example.com\r\n" FPA_SAFARI FPA_NAV
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    "GET /rest/api/2/user/picker?query=obrien&maxResults=10&showAvatar=true HTTP/1.1\r\n"
    "Host: jira.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: JSESSIONID=4683F84D30D3FC4D83CEE9B9BCCA0FCE; atlassian.xsrf.token=B9594DC72AA7A6D0018F99DDCEB"
    "1BE0273DBC46D_lin; seraph.confluence=fZcxn5lVshv0FKXUXE0TgLHp5SsV07\r\n" "\r\n",
    /* Nextcloud and ownCloud: WebDAV PROPFIND, PUT, MKCOL, MOVE, REPORT; OCS; login */
    "PROPFIND /remote.php/dav/files/alice/Documents/ HTTP/1.1\r\nHost: cloud.example.com\r\n"
    "User-Agent: Mozilla/5.0 (Windows) mirall/3.12.3stable-Win64 (build 20240409) (Nextcloud, windows-10.0"
    ".22631 ClientArchitecture: x86_64 OsArchitecture: x86_64)\r\n"
    "Accept: */*\r\nDepth: 1\r\nAuthorization: Basic YWxpY2U6Qk1MZngtamtSM3AtNWlnSmstTWFtSEotS2h3Z0c=\r\n"
    "Content-Type: application/xml; charset=utf-8\r\nContent-Length: 279\r\n"
    "\r\n<?xml version=\"1.0\" ?>\n<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\" xmlns:"
    "nc=\"http://nextcloud.org/ns\"><d:prop><d:resourcetype/><d:getlastmodified/><d:getcontentlength/><d:g"
    "etetag/><oc:id/><oc:downloadURL/><oc:permissions/><nc:has-preview/></d:prop></d:propfind>\n",
    "PUT /remote.php/dav/files/alice/Photos/2024/IMG_2041.jpg HTTP/1.1\r\n"
    "Host: cloud.example.com\r\nUser-Agent: Mozilla/5.0 (iOS) Nextcloud-iOS/5.3.2\r\n"
    "Accept: */*\r\nOC-Checksum: SHA1:e48eb7c64328c0490c257a632b96292794c9bce4\r\n"
    "X-OC-Mtime: 1714390000\r\nAuthorization: Basic YWxpY2U6Qk1MZngtamtSM3AtNWlnSmstTWFtSEotS2h3Z0c=\r\n"
    "Content-Type: image/jpeg\r\nContent-Length: 149\r\n\r\n\377\330\377\341\014EExif\001\001MM\001*\001\001"
    "\001\010\001\013\001\017\001\002\001\001\001\006Apple\001iPhone 13\001\377\333\001C\001\003\002\002\002"
    "\002\002\003\002\002\002\003\003\003\003\004\006\004\004\004\004\004\010\006\006\005\006\t\010\n"
    "\n\t\010\t\t\n\014\017\014\n\013\016\013\t\t\r\021\r\016\017\020\020\021\020\n"
    "\014\022\023\022\020\023\017\020\020\020\377\300\021\010\014@\t0\003\001\"\002\021\001\003\021\001\377"
    "\332\014\003\001\002\021\003\021?\362\212(\242\212\377\331",
    "PUT /remote.php/dav/files/alice/Documents/Quarterly%20Report%20Q1.pdf HTTP/1.1\r\n"
    "Host: cloud.example.com\r\n" FPA_FIREFOX
    "Accept: */*\r\nrequesttoken: 7RLBXrzqsW5aBqtsdP2ZW5oGLSHR6muOtrCZCmKbMwTJYvCjToo8Lk1Okfth=:Q7bqrkW7AH"
    "1wxpS5C42lmsDPrHCyUNx6Wv6FasvZvn1ORhFW88bc7Vsgvs11=\r\nCookie: oc_sessionPassphrase=BGEK8hf0dnbzzDpAr"
    "xlUJtPWRKCRoG258lEWMcnYBDO4Zlw9CcDnPPOCK7l2LUA530dTamQ94f8EPrYrtlOaTZ4tfBy3PFLKWYLA4SZjXHVi3YVZpE9Hb0"
    "6WjPYMdSWP; nc_sameSiteCookielax=true; nc_sameSiteCookiestrict=true; oca1b2c3d4e5=d180a4742684ee75bb6"
    "cc69f67\r\nContent-Type: application/pdf\r\nContent-Length: 232\r\n"
    "\r\n%PDF-1.7\n%\342\343\317\323\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\n"
    "endobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\n"
    "endobj\ntrailer\n<< /Root 1 0 R /Size 4 >>\n%%EOF\n",
    "MKCOL /remote.php/dav/files/alice/Projects/Union%20Street%20Renovation HTTP/1.1\r\n"
    "Host: cloud.example.com\r\n" FPA_CHROME
    "requesttoken: oocgDrsNbrg27xIfwMC8s0zjQLiKxoPiQP9DKWWaFMoTIIrtfqePtPAgscI7=\r\n"
    "Cookie: oc_sessionPassphrase=BGEK8hf0dnbzzDpArxlUJtPWRKCRoG258lEWMcnYBDO4Zlw9CcDnPPOCK7l2LUA530dTamQ9"
    "4f8EPrYrtlOaTZ4tfBy3PFLKWYLA4SZjXHVi3YVZpE9Hb06WjPYMdSWP; nc_sameSiteCookielax=true; nc_sameSiteCooki"
    "estrict=true; oca1b2c3d4e5=d180a4742684ee75bb6cc69f67\r\n\r\n",
    "MOVE /remote.php/dav/files/alice/Documents/draft.odt HTTP/1.1\r\n" "Host: cloud.example.com\r\n" FPA_CHROME
    "Destination: https://cloud.example.com/remote.php/dav/files/alice/Documents/Archive/draft-2024-05.odt"
    "\r\nOverwrite: F\r\nrequesttoken: pWsTI4tJlkPVo0Hjbw8KrqJmd1xZ1NHsSAXfNCD5RTMHsTc9HKUcdkXSKjEC=\r\n"
    "Cookie: oc_sessionPassphrase=BGEK8hf0dnbzzDpArxlUJtPWRKCRoG258lEWMcnYBDO4Zlw9CcDnPPOCK7l2LUA530dTamQ9"
    "4f8EPrYrtlOaTZ4tfBy3PFLKWYLA4SZjXHVi3YVZpE9Hb06WjPYMdSWP; nc_sameSiteCookielax=true; nc_sameSiteCooki"
    "estrict=true; oca1b2c3d4e5=d180a4742684ee75bb6cc69f67\r\n\r\n",
    "REPORT /remote.php/dav/files/alice HTTP/1.1\r\nHost: cloud.example.com\r\n" FPA_CHROME
    "requesttoken: AdwfFvtVvkQGpf9bfMyiUAW6FpSon7upsQpPFIvBBxZ1JSXL9oh257rKGyu1=\r\n"
    "Cookie: oc_sessionPassphrase=BGEK8hf0dnbzzDpArxlUJtPWRKCRoG258lEWMcnYBDO4Zlw9CcDnPPOCK7l2LUA530dTamQ9"
    "4f8EPrYrtlOaTZ4tfBy3PFLKWYLA4SZjXHVi3YVZpE9Hb06WjPYMdSWP; nc_sameSiteCookielax=true; nc_sameSiteCooki"
    "estrict=true; oca1b2c3d4e5=d180a4742684ee75bb6cc69f67\r\nContent-Type: application/xml\r\n"
    "Content-Length: 220\r\n\r\n<?xml version=\"1.0\"?>\n<oc:filter-files xmlns:d=\"DAV:\" xmlns:oc=\"http"
    "://owncloud.org/ns\"><d:prop><d:getlastmodified/><oc:favorite/></d:prop><oc:filter-rules><oc:favorite"
    ">1</oc:favorite></oc:filter-rules></oc:filter-files>",
    "GET /ocs/v2.php/apps/notifications/api/v2/notifications?format=json HTTP/1.1\r\n"
    "Host: cloud.example.com\r\n" FPA_CHROME
    "Accept: application/json, text/plain, */*\r\nOCS-APIRequest: true\r\n"
    "requesttoken: TvnUYLp0WUOXIj6X11QPDCGkzo60tZ5D8NfbfuKTmloFJsOKIcoZFC2ceMNu=\r\n"
    "Cookie: oc_sessionPassphrase=BGEK8hf0dnbzzDpArxlUJtPWRKCRoG258lEWMcnYBDO4Zlw9CcDnPPOCK7l2LUA530dTamQ9"
    "4f8EPrYrtlOaTZ4tfBy3PFLKWYLA4SZjXHVi3YVZpE9Hb06WjPYMdSWP; nc_sameSiteCookielax=true; nc_sameSiteCooki"
    "estrict=true; oca1b2c3d4e5=d180a4742684ee75bb6cc69f67\r\n\r\n",
    "GET /index.php/apps/files/?dir=/Documents&fileid=1234 HTTP/1.1\r\n" "Host: cloud.example.com\r\n" FPA_FIREFOX
    FPA_NAV "Cookie: oc_sessionPassphrase=BGEK8hf0dnbzzDpArxlUJtPWRKCRoG258lEWMcnYBDO4Zlw9CcDnPPOCK7l2LUA530dTamQ9"
    "4f8EPrYrtlOaTZ4tfBy3PFLKWYLA4SZjXHVi3YVZpE9Hb06WjPYMdSWP; nc_sameSiteCookielax=true; nc_sameSiteCooki"
    "estrict=true; oca1b2c3d4e5=d180a4742684ee75bb6cc69f67\r\n\r\n",
    "POST /index.php/login HTTP/1.1\r\nHost: cloud.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: oca1b2c3d4e5=b01d4921da2e055c90eb6f2aed\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 221\r\n\r\nuser=alice&password=Quartz-Otter-62&timezone=Europe%2FBerlin&timezone_offs"
    "et=2&requesttoken=i6o3JZ9mnFzzDurVmqTkka8XeqpIT3Vh4oB2MOrvcsFJqlXjl8aXhPkcZQHO%3D%3AL94MjvHO31QpGMhqQ"
    "tfOjdOiksHvg6lkF2arEzcI3gjgt1w8Ho9ugGd1rZiK%3D",
    "GET /ocs/v1.php/cloud/capabilities?format=json HTTP/1.1\r\nHost: owncloud.example.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh) mirall/5.2.1 (ownCloud, osx-23.4.0 ClientArchitecture: arm64 OsAr"
    "chitecture: arm64)\r\nAccept: */*\r\nOCS-APIREQUEST: true\r\n"
    "Authorization: Bearer 99MkexFIXxnDZPDXCAsm9NdTHtIb64Fn3MkH6u3WKXv1VzwvrA0QHPXgvh8WufC0\r\n" "\r\n",
    /* Roundcube and Zimbra webmail, Outlook autodiscover and EWS, ActiveSync */
    "GET /roundcube/?_task=mail&_mbox=INBOX HTTP/1.1\r\nHost: mail.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: roundcube_sessid=b3ba3178b6e0e30f328549c488; roundcube_sessauth=8cABVJfge3Cz1CELn0prmZ1e9Ks2c"
    "ZO39nhEXVhN-1714390000\r\n\r\n",
    "POST /roundcube/?_task=login HTTP/1.1\r\nHost: mail.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: roundcube_sessid=94165beaecba0afa707e1448c8\r\nContent-Type: application/x-www-form-urlencode"
    "d\r\nContent-Length: 144\r\n\r\n_token=EgQWkkhl9IsC6j5xG3MxbokoGXySyyP3&_task=login&_action=login&_ti"
    "mezone=Europe%2FParis&_url=&_user=alice%40example.com&_pass=Sea-Lavender-19",
    "GET /roundcube/?_task=mail&_action=list&_mbox=INBOX&_page=1&_remote=1&_unlock=loading1714390000123&_="
    "1714390000100 HTTP/1.1\r\nHost: mail.example.com\r\n" FPA_CHROME FPA_XHR
    "X-Roundcube-Request: y8JrET9wVvXg2oPW3jtZVDtVqU4yegX5\r\nCookie: roundcube_sessid=b3ba3178b6e0e30f328"
    "549c488; roundcube_sessauth=8cABVJfge3Cz1CELn0prmZ1e9Ks2cZO39nhEXVhN-1714390000\r\n" "\r\n",
    "POST /roundcube/?_task=mail&_action=send HTTP/1.1\r\nHost: mail.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: roundcube_sessid=b3ba3178b6e0e30f328549c488; roundcube_sessauth=8cABVJfge3Cz1CELn0prmZ1e9Ks2c"
    "ZO39nhEXVhN-1714390000\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 426\r\n\r\n_token=PzPWJINA43qdZcZkxT7KlEJTuTQukjq7&_task=mail&_action=send&_id=a26259"
    "bebd2fa588&_from=1&_to=Sean+O%27Brien+%3Csean.obrien%40example.net%3E&_subject=Re%3A+select+query+for"
    "+the+union+report&_message=Hi+Sean%2C%0A%0AThe+query+is+SELECT+region%2C+SUM%28total%29+FROM+sales+GR"
    "OUP+BY+region%3B+run+it+on+the+replica%2C+not+prod.%0A%0A%3E+On+Tue%2C+you+wrote%3A%0A%3E+can+you+exe"
    "c+the+report%3F%0A%0ACheers%2C%0AAlice&_is_html=0",
    "POST /roundcube/?_task=mail&_action=upload&_id=0587061ce6936714&_uploadid=upload1714390000&_remote=1 "
    "HTTP/1.1\r\nHost: mail.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: roundcube_sessid=b3ba3178b6e0e30f328549c488; roundcube_sessauth=8cABVJfge3Cz1CELn0prmZ1e9Ks2c"
    "ZO39nhEXVhN-1714390000\r\nContent-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU"
    "8Is2g8n\r\nContent-Length: 442\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"_attachments[]\"; filename=\"invoice-2024-0502.pdf\"\r\n"
    "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n%\342\343\317\323\n"
    "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n"
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0"
    " 0 595 842] >>\nendobj\ntrailer\n<< /Root 1 0 R /Size 4 >>\n%%EOF\n"
    "\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST / HTTP/1.1\r\nHost: zimbra.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: ZM_TEST=true\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 119\r\n\r\nloginOp=login&login_csrf=3bf2b672850882161db80a1e9ad8cdadc4cc&username=ali"
    "ce&password=Juniper%26Moss-8&client=preferred",
    "POST /service/soap/SearchRequest HTTP/1.1\r\nHost: zimbra.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-Zimbra-Csrf-Token: 0_d4078c763211caeae0ffac7cb2c8a2788fbf742b\r\n"
    "Cookie: ZM_TEST=true; ZM_AUTH_TOKEN=0_122a40680a06aa0fca51d12afc8e00aa1da52046_42bbdb4a78f19e8b8480f3"
    "b47c20431658b4550b7ef6bce6a0302cb17cdc70808d77b6ad89f65f84992a0f75ae616b1e5d490340494b35ec2daca176; J"
    "SESSIONID=node0aci6o1gbduehh5i71alo8j86.node0\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
    "Content-Length: 521\r\n\r\n{\"Header\":{\"context\":{\"_jsns\":\"urn:zimbra\",\"userAgent\":{\"name\""
    ":\"ZimbraWebClient - GC124 (Win)\",\"version\":\"10.0.7_GA_4518\"},\"session\":{\"_content\":1204,\"i"
    "d\":1204},\"account\":{\"_content\":\"alice@example.com\",\"by\":\"name\"},\"csrfToken\":\"0_65b754e5"
    "1acbd3d48c3bb9e28c9e3ef5404bf7ba\"}},\"Body\":{\"SearchRequest\":{\"_jsns\":\"urn:zimbraMail\",\"sort"
    "By\":\"dateDesc\",\"header\":[{\"n\":\"List-ID\"}],\"tz\":{\"id\":\"Europe/Paris\"},\"locale\":{\"_co"
    "ntent\":\"en_US\"},\"offset\":0,\"limit\":100,\"query\":\"in:inbox from:obrien\",\"types\":\"conversa"
    "tion\",\"fetch\":\"u1\"}}}",
    "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.example.com\r\n"
    "User-Agent: Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)\r\n"
    "Accept: */*\r\nAuthorization: Basic YWxpY2VAZXhhbXBsZS5jb206SGFyYm9yLUxpZ2h0cy0zMQ==\r\n"
    "Content-Type: text/xml\r\nContent-Length: 350\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><Autod"
    "iscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Requ"
    "est><EMailAddress>alice@example.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft."
    "com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodisc" "over>",
    "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.example.com\r\n"
    "User-Agent: Mac OS X/14.4.1 (23E224); ExchangeWebServices/1.0 (Mail)\r\n"
    "Accept: */*\r\nAuthorization: Basic RVhBTVBMRVxhbGljZTpIYXJib3ItTGlnaHRzLTMx\r\n"
    "Content-Type: text/xml; charset=utf-8\r\nContent-Length: 627\r\n"
    "\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/"
    "soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" xmlns:m=\"http"
    "://schemas.microsoft.com/exchange/services/2006/messages\"><soap:Header><t:RequestServerVersion Versi"
    "on=\"Exchange2013_SP1\"/></soap:Header><soap:Body><m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:B"
    "aseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"50\" Offset=\""
    "0\" BasePoint=\"Beginning\"/><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFold"
    "erIds></m:FindItem></soap:Body></soap:Envelope>",
    "POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=C806081598A878E2F264D9B1ECB19DD8&Devic"
    "eType=iPhone HTTP/1.1\r\nHost: mail.example.com\r\nUser-Agent: Apple-iPhone15C2/2104.152\r\n"
    "Accept: */*\r\nMS-ASProtocolVersion: 16.1\r\nX-MS-PolicyKey: 3912546802\r\n"
    "Authorization: Basic YWxpY2U6SGFyYm9yLUxpZ2h0cy0zMQ==\r\nContent-Type: application/vnd.ms-sync.wbxml\r"
    "\nContent-Length: 23\r\n\r\n\003\001j\001E\\OK\0031688\001\001R\0035\001\001\001\001\001",
    /* Home routers (TP-Link, Netgear, D-Link, ASUS): login with a chosen password, ping and traceroute of a real
     * host name, NTP set to pool.ntp.org, ordinary status pages */
    "GET /userRpm/PingIframeRpm.htm?ping_addr=www.google.com&doType=ping&isNew=new&sendNum=4&pSize=64&over"
    "Time=800&trHops=20 HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_NAV
    "Referer: http://192.168.0.1/userRpm/DiagnosticRpm.htm\r\nCookie: Authorization=Basic%20YWRtaW46T3R0ZX"
    "ItQmF5LTIwMjQ%3D\r\n\r\n",
    "GET /userRpm/DateTimeCfgRpm.htm?timezone=60&month=5&day=2&year=2024&hour=11&minute=0&second=0&ntpA=po"
    "ol.ntp.org&ntpB=time.google.com&isTimeChanged=0&start=0&Save=Save HTTP/1.1\r\n" "Host: 192.168.0.1\r\n"
    FPA_FIREFOX FPA_NAV
    "Referer: http://192.168.0.1/userRpm/DateTimeCfgRpm.htm\r\nCookie: Authorization=Basic%20YWRtaW46T3R0Z"
    "XItQmF5LTIwMjQ%3D\r\n\r\n",
    "POST /cgi-bin/luci/;stok=/login?form=login HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 261\r\n\r\ndata=b7c46b26a22eccdf03eeddf52ecf4076c19ace327203f26e16af1d4d14aa605882ac8"
    "9cd1997cd896416bef4ba6e1a02da187e966ece6615d3142f505f7965463e3621d78ed41415e97a498a647c1ac49726e45dac"
    "31b3629fb0f26f89264f879130b64915abef7ab5392e335ce1113d4db2b5b52a0f94833734f83ae7518b69",
    "POST /cgi-bin/luci/;stok=c64773031f6725480dc3932677172a31/admin/diagnostic?form=diag HTTP/1.1\r\n"
    "Host: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Cookie: sysauth=659a2e50add127454b4667a20f1fa226\r\nContent-Type: application/x-www-form-urlencoded; "
    "charset=UTF-8\r\nContent-Length: 80\r\n\r\noperation=start&type=0&ipaddr=www.google.com&count=4&pktsi"
    "ze=64&timeout=1&ttl=20",
    "POST /cgi-bin/luci/;stok=1bd2b5ff4891e5dc9328776e7f1ccacc/admin/time?form=settings HTTP/1.1\r\n"
    "Host: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Cookie: sysauth=27ad909f03fdd9e4a62bce19a285ed73\r\nContent-Type: application/x-www-form-urlencoded; "
    "charset=UTF-8\r\nContent-Length: 90\r\n\r\noperation=write&type=auto&timezone=%2B01%3A00&ntp_svr1=poo"
    "l.ntp.org&ntp_svr2=time.nist.gov",
    /* Netgear's pages without the Basic header each carries: admin:PASSWORD is one
     * dictionary guess byte for byte, and basic-auth-router classes it brute-force */
    "GET /start.htm HTTP/1.1\r\nHost: routerlogin.net\r\n" FPA_CHROME FPA_NAV
    "\r\n",
    "POST /apply.cgi?/DIAG_diag.htm%20timestamp=3693579364 HTTP/1.1\r\n" "Host: routerlogin.net\r\n" FPA_CHROME
    FPA_NAV
    "Referer: http://routerlogin.net/DIAG_diag.htm\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 59\r\n"
    "\r\nsubmit_flag=ping_test&ping_IPAddr=www.netgear.com&ping=Ping",
    "POST /apply.cgi?/FW_time.htm%20timestamp=4850517321 HTTP/1.1\r\n" "Host: routerlogin.net\r\n" FPA_FIREFOX
    FPA_NAV
    "Content-Type: application/x-www-form-urlencoded\r"
    "\nContent-Length: 102\r\n\r\nsubmit_flag=ntp_set&time_zone=GMT-1&ntpserver_select=manual&manual_ntp_s"
    "erver=pool.ntp.org&ntpadjust=1",
    "GET /setup.cgi?next_file=BAS_ether.htm HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_NAV
    "\r\n",
    "POST /HNAP1/ HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "SOAPAction: \"http://purenetworks.com/HNAP1/Login\"\r\nOrigin: http://192.168.0.1\r\n"
    "Referer: http://192.168.0.1/info/Login.html\r\nContent-Type: text/xml; charset=utf-8\r\n"
    "Content-Length: 400\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:xsi=\"http:"
    "//www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:soap=\"ht"
    "tp://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><Login xmlns=\"http://purenetworks.com/HNAP1/\">"
    "<Action>request</Action><Username>Admin</Username><LoginPassword></LoginPassword><Captcha></Captcha><"
    "/Login></soap:Body></soap:Envelope>",
    "POST /HNAP1/ HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "SOAPAction: \"http://purenetworks.com/HNAP1/SetTimeSettings\"\r\n"
    "HNAP_AUTH: C8A4B57BC9FA65C00537E8B3C48D2AE8 1714390000123\r\n"
    "Cookie: uid=9SXTqtorY8; PrivateKey=1FFB013CE94E1AF408461C58790DD2CF\r\n"
    "Content-Type: text/xml; charset=utf-8\r\nContent-Length: 335\r\n"
    "\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/"
    "soap/envelope/\"><soap:Body><SetTimeSettings xmlns=\"http://purenetworks.com/HNAP1/\"><NTP>true</NTP>"
    "<NTPServer>pool.ntp.org</NTPServer><TimeZone>+01:00</TimeZone><DaylightSaving>true</DaylightSaving></"
    "SetTimeSettings></soap:Body></soap:Envelope>",
    "POST /diagnostic.php HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_FIREFOX FPA_XHR
    "Cookie: uid=9tXs5RUK1k\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 26\r\n\r\nact=ping&dst=www.dlink.com",
    "POST /getcfg.php HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_FIREFOX FPA_XHR
    "Cookie: uid=f0DyiW5IMh\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 35\r\n\r\nSERVICES=DEVICE.TIME%2CRUNTIME.TIME",
    "POST /login.cgi HTTP/1.1\r\nHost: router.asus.com\r\n" FPA_CHROME FPA_NAV
    "Referer: http://router.asus.com/Main_Login.asp\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 150\r\n\r\ngroup_id=&action_mode=&action_script=&action_wait=5&current_page=Main_Logi"
    "n.asp&next_page=index.asp&login_authorization=YWRtaW46S2VzdHJlbC1GZW4tNDE%3D",
    "POST /apply.cgi HTTP/1.1\r\nHost: router.asus.com\r\n" FPA_CHROME FPA_NAV
    "Referer: http://router.asus.com/Advanced_System_Content.asp\r\n"
    "Cookie: asus_token=z4DKTvhKrT6DlTYx9X9sLRT58eMnU7; clickedItem_tab=0\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 217\r\n"
    "\r\ncurrent_page=Advanced_System_Content.asp&next_page=&modified=0&action_mode=apply&action_wait=5&ac"
    "tion_script=restart_time&time_zone=GMT0BST%2CM3.5.0%2F1%2CM10.5.0%2F2&ntp_server0=pool.ntp.org&ntp_se"
    "rver1=time.nist.gov",
    "POST /apply.cgi HTTP/1.1\r\nHost: router.asus.com\r\n" FPA_CHROME FPA_NAV
    "Referer: http://router.asus.com/Main_Analysis_Content.asp\r\n"
    "Cookie: asus_token=z4DKTvhKrT6DlTYx9X9sLRT58eMnU7; clickedItem_tab=0\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 273\r\n"
    "\r\ncurrent_page=Main_Analysis_Content.asp&next_page=Main_Analysis_Content.asp&group_id=&modified=0&a"
    "ction_mode=+Refresh+&action_script=&action_wait=&first_time=&preferred_lang=EN&SystemCmd=ping+-c+5+ww"
    "w.google.com&firmver=3.0.0.4&cmdMethod=ping&destIP=www.google.com&pingCNT=5",
    "GET /appGet.cgi?hook=nvram_get(productid)%3Bnvram_get(firmver)%3Bnvram_get(buildno) HTTP/1.1\r\n"
    "Host: router.asus.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: asus_token=z4DKTvhKrT6DlTYx9X9sLRT58eMnU7; clickedItem_tab=0\r\n" "\r\n",
    "GET /update_clients.asp?_=1714390000789 HTTP/1.1\r\nHost: router.asus.com\r\n" FPA_FIREFOX FPA_XHR
    "Cookie: asus_token=z4DKTvhKrT6DlTYx9X9sLRT58eMnU7; clickedItem_tab=0\r\n" "\r\n",
    /* IP cameras: Hikvision ISAPI and Dahua RPC2 as their web UI and NVRs use them */
    "GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: 192.168.1.64\r\n"
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1"
    "24.0.0.0 Safari/537.36\r\nAccept: */*\r\nIf-Modified-Since: 0\r\n"
    "X-Requested-With: XMLHttpRequest\r\nAuthorization: Digest username=\"admin\", realm=\"IP Camera(D1234"
    ")\", nonce=\"ec38bcacf836ed5a148fd28cbc938e019bb8723d\", uri=\"/ISAPI/System/deviceInfo\", algorithm="
    "MD5, response=\"39553ccaccfab54d946a2d207dc68447\", qop=auth, nc=00000001, cnonce=\"7391c94c8286793b\""
    "\r\n\r\n",
    "GET /ISAPI/Streaming/channels/101/picture?snapShotImageType=JPEG HTTP/1.1\r\n"
    "Host: 192.168.1.64\r\nUser-Agent: HomeAssistant/2024.5.1 aiohttp/3.9.5 Python/3.12\r\n"
    "Accept: */*\r\nAuthorization: Digest username=\"admin\", realm=\"IP Camera(D1234)\", nonce=\"2b023a60"
    "e4e81e11e3f79aa766907508db2823cc\", uri=\"/ISAPI/Streaming/channels/101/picture?snapShotImageType=JPE"
    "G\", algorithm=MD5, response=\"d71ba82f4dee6a63c59620e66869002b\", qop=auth, nc=00000001, cnonce=\"6d"
    "08b5ab9315bd0e\"\r\n\r\n",
    "PUT /ISAPI/System/time/ntpServers/1 HTTP/1.1\r\nHost: 192.168.1.64\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebSession_3a34bff2aa=f438c6b8068dc5d44036c002e162aaef6076bc3346eee21f5c7ff43fc2770c71\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 222\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><NTPServer><id>1</id><addressing"
    "FormatType>hostname</addressingFormatType><hostName>pool.ntp.org</hostName><portNo>123</portNo><synch"
    "ronizeInterval>60</synchronizeInterval></NTPServer>",
    "PUT /SDK/webLanguage HTTP/1.1\r\nHost: 192.168.1.64\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebSession_73601e1c77=1d814e0f33545a3c0202219ec0605e636d32b32732b89994fa6022136ced6201\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 61\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><language>en</language>",
    "POST /ISAPI/Security/sessionLogin?timeStamp=1714390000123 HTTP/1.1\r\n" "Host: 192.168.1.64\r\n" FPA_CHROME
    FPA_XHR "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 326\r\n\r\n<SessionLogin><userName>operator</userName><password>04d159e8489b0ac35e5fa"
    "870d0a7ba07a2531adab23e5617d266908d35e59c7a</password><sessionID>80268422c922202b243f8e5389cd5e3eaa60"
    "c736ba80622598514f31c8271290</sessionID><isSessionIDValidLongTerm>false</isSessionIDValidLongTerm><se"
    "ssionIDVersion>2</sessionIDVersion></SessionLogin>",
    "POST /ISAPI/ContentMgmt/search HTTP/1.1\r\nHost: 192.168.1.64\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebSession_84bb54b8bb=53759c0767cb7f8013cb790fef33ef2c3ff57de13628bef7a127f6c31d175a63\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 481\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><CMSearchDescription><searchID>C"
    "2F8EE42EA368B23FF8500F17F4B4CA1</searchID><trackList><trackID>101</trackID></trackList><timeSpanList>"
    "<timeSpan><startTime>2024-05-02T00:00:00Z</startTime><endTime>2024-05-02T23:59:59Z</endTime></timeSpa"
    "n></timeSpanList><maxResults>50</maxResults><searchResultPostion>0</searchResultPostion><metadataList"
    "><metadataDescriptor>//recordType.meta.std-cgi.com</metadataDescriptor></metadataList></CMSearchDescr"
    "iption>",
    "POST /RPC2_Login HTTP/1.1\r\nHost: 192.168.1.108\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebClientSessionID=b570e2e619e469a62c050bf72fbf666f; username=admin\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 247\r\n\r\n{\"method\":\"global.login\",\"params\":{\"userName\":\"admin\",\"password"
    "\":\"69E87A1D5AD0B57048EFC48738D444A1\",\"clientType\":\"Web3.0\",\"loginType\":\"Direct\",\"authorit"
    "yType\":\"Default\",\"passwordType\":\"Default\"},\"id\":2,\"session\":\"b570e2e619e469a62c050bf72fbf"
    "666f\"}",
    "POST /RPC2 HTTP/1.1\r\nHost: 192.168.1.108\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebClientSessionID=b570e2e619e469a62c050bf72fbf666f; username=admin\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 113\r\n\r\n{\"method\":\"configManager.getConfig\",\"params\":{\"name\":\"NTP\"},\"id"
    "\":12,\"session\":\"b570e2e619e469a62c050bf72fbf666f\"}",
    "POST /RPC2 HTTP/1.1\r\nHost: 192.168.1.108\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebClientSessionID=b570e2e619e469a62c050bf72fbf666f; username=admin\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 242\r\n\r\n{\"method\":\"configManager.setConfig\",\"params\":{\"name\":\"NTP\",\"tab"
    "le\":{\"Address\":\"pool.ntp.org\",\"Enable\":true,\"Port\":123,\"UpdatePeriod\":10,\"TimeZone\":13,\""
    "TimeZoneDesc\":\"London\"},\"options\":[]},\"id\":15,\"session\":\"b570e2e619e469a62c050bf72fbf666f\"" "}",
    "POST /RPC2 HTTP/1.1\r\nHost: 192.168.1.108\r\n" FPA_CHROME FPA_XHR
    "Cookie: WebClientSessionID=b570e2e619e469a62c050bf72fbf666f; username=admin\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 304\r\n\r\n{\"method\":\"system.multicall\",\"params\":[{\"method\":\"magicBox.getDev"
    "iceType\",\"params\":null,\"id\":20,\"session\":\"b570e2e619e469a62c050bf72fbf666f\"},{\"method\":\"m"
    "agicBox.getSoftwareVersion\",\"params\":null,\"id\":21,\"session\":\"b570e2e619e469a62c050bf72fbf666f"
    "\"}],\"id\":22,\"session\":\"b570e2e619e469a62c050bf72fbf666f\"}",
    "GET /cgi-bin/snapshot.cgi?channel=1&subtype=0 HTTP/1.1\r\nHost: 192.168.1.108\r\n"
    "User-Agent: Blue Iris\r\nAccept: */*\r\nAuthorization: Digest username=\"admin\", realm=\"Login to 57"
    "d52ed8748d\", nonce=\"31d3092954d2c93e7fb6d28c587db821\", uri=\"/cgi-bin/snapshot.cgi?channel=1&subty"
    "pe=0\", algorithm=MD5, response=\"f6a0efa5ea7d26dc47bbcfb4768314cd\", qop=auth, nc=00000001, cnonce=\""
    "2feabbda5f05cb39\"\r\n\r\n",
    "POST /onvif/device_service HTTP/1.1\r\nHost: 192.168.1.108\r\n"
    "User-Agent: gSOAP/2.8\r\nAccept: */*\r\nContent-Type: application/soap+xml; charset=utf-8; action=\"h"
    "ttp://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime\"\r\n"
    "Content-Length: 299\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope xmlns:s=\"http://www"
    ".w3.org/2003/05/soap-envelope\"><s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns"
    ":xsd=\"http://www.w3.org/2001/XMLSchema\"><GetSystemDateAndTime xmlns=\"http://www.onvif.org/ver10/de"
    "vice/wsdl\"/></s:Body></s:Envelope>",
    /* Home Assistant: REST API with a long-lived token, websocket, login flow, token exchange */
    "GET /api/states/sensor.living_room_temperature HTTP/1.1\r\nHost: homeassistant.local:8123\r\n"
    "User-Agent: Home Assistant/2024.4.4 (io.robbie.HomeAssistant; build:2024.612; iOS 17.4.1) Alamofire/5"
    ".8.0\r\nAccept: application/json\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI"
    "6ImhhIn0.eyJpc3MiOiI2NzZiOTg1MmUxNjBkODAyMDUyNzA1NzU4NzAwMzIyNiIsImlhdCI6MTcxNDM5MDAwMCwiZXhwIjoxNzE0"
    "MzkxODAwfQ.T8qJsol19hqHKhUhLIGhQqr-SYGT2xlCdnJ8MITY57dL83RBYbN6eh2qHDdDclb6YXanhQUHc7rnyonHoLlGpe\r\n" "\r\n",
    "POST /api/services/light/turn_on HTTP/1.1\r\nHost: homeassistant.local:8123\r\n"
    "User-Agent: python-requests/2.31.0\r\nAccept: */*\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cC"
    "I6IkpXVCIsImtpZCI6ImhhIn0.eyJpc3MiOiI2NzZiOTg1MmUxNjBkODAyMDUyNzA1NzU4NzAwMzIyNiIsImlhdCI6MTcxNDM5MDA"
    "wMCwiZXhwIjoxNzE0MzkxODAwfQ.T8qJsol19hqHKhUhLIGhQqr-SYGT2xlCdnJ8MITY57dL83RBYbN6eh2qHDdDclb6YXanhQUHc"
    "7rnyonHoLlGpe\r\nContent-Type: application/json\r\nContent-Length: 64\r\n"
    "\r\n{\"entity_id\":\"light.kitchen\",\"brightness_pct\":60,\"transition\":2}",
    "GET /api/websocket HTTP/1.1\r\nHost: homeassistant.local:8123\r\n" FPA_CHROME
    "Connection: Upgrade\r\nUpgrade: websocket\r\nOrigin: http://homeassistant.local:8123\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: JL7o4PdBMUHygth3XrtehT==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" "\r\n",
    "POST /auth/login_flow HTTP/1.1\r\nHost: homeassistant.local:8123\r\n" FPA_FIREFOX FPA_FETCH
    "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 147\r\n"
    "\r\n{\"client_id\":\"http://homeassistant.local:8123/\",\"handler\":[\"homeassistant\",null],\"redire"
    "ct_uri\":\"http://homeassistant.local:8123/?auth_callback=1\"}",
    "POST /auth/token HTTP/1.1\r\nHost: homeassistant.local:8123\r\n" FPA_FIREFOX FPA_FETCH
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 120\r\n"
    "\r\ngrant_type=authorization_code&code=232cdf287eafdbea13e284142e192ad2&client_id=http%3A%2F%2Fhomeas"
    "sistant.local%3A8123%2F",
    "GET /api/hassio/app/entrypoint.ee12a4f0.js HTTP/1.1\r\nHost: homeassistant.local:8123\r\n" FPA_CHROME
    "Accept: */*\r\nReferer: http://homeassistant.local:8123/hassio/dashboard\r\n" "\r\n",
    "GET /local/community/mini-graph-card/mini-graph-card-bundle.js?hacstag=1512345678 HTTP/1.1\r\n"
    "Host: homeassistant.local:8123\r\n" FPA_CHROME "Accept: */*\r\n\r\n",
    /* Synology DSM web API: query, login, system info, File Station list and download */
    "GET /webapi/query.cgi?api=SYNO.API.Info&version=1&method=query&query=SYNO.API.Auth,SYNO.FileStation. "
    "HTTP/1.1\r\nHost: nas.example.com:5001\r\nUser-Agent: DSfile/5.3.1 (iPhone; iOS 17.4.1)\r\n"
    "Accept: */*\r\n\r\n",
    "GET /webapi/entry.cgi?api=SYNO.API.Auth&version=6&method=login&account=alice&passwd=Ember-Lynx-14&ses"
    "sion=FileStation&format=sid HTTP/1.1\r\nHost: nas.example.com:5001\r\n"
    "User-Agent: DSfile/5.3.1 (iPhone; iOS 17.4.1)\r\nAccept: */*\r\n" "\r\n",
    "POST /webapi/entry.cgi HTTP/1.1\r\nHost: nas.example.com:5001\r\n" FPA_CHROME FPA_XHR
    "X-SYNO-TOKEN: sWoRG6r87brufIMPpDDdvJI_GZ7zn9wn8osntNI9\r\nCookie: id=SyMGEkRNJoU0VeWx2ruPf6OLhx8cXk7y"
    "ZQY-NrfDg8TpoWrY1HAdsBgFEpdoiumvtywkOdB0fGVTngpw3nRerH; did=51BdaauuPE73DQ2LXltMcHcu3UwJ1ZpmqX-BSwVX;"
    " smid=COuGHaCb7TbST4D2Rhjd1b7GLArVegdWdWZO7bi2G-A4LI1So6Vbr0fZdU0t\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 390\r\n\r\napi=SYNO.Entry.Request&method=request&version=1&stop_when_error=false&mode"
    "=%22parallel%22&compound=%5B%7B%22api%22%3A%22SYNO.Core.System%22%2C%22method%22%3A%22info%22%2C%22ve"
    "rsion%22%3A3%7D%2C%7B%22api%22%3A%22SYNO.Core.System.Utilization%22%2C%22method%22%3A%22get%22%2C%22v"
    "ersion%22%3A1%2C%22type%22%3A%22current%22%2C%22resource%22%3A%5B%22cpu%22%2C%22memory%22%2C%22networ"
    "k%22%5D%7D%5D",
    "GET /webapi/entry.cgi?api=SYNO.FileStation.List&version=2&method=list&folder_path=%22%2Fhome%2FPhotos"
    "%22&additional=%5B%22size%22%2C%22time%22%5D&_sid=SyMGEkRNJoU0VeWx2ruPf6OLhx8cXk7yZQY-NrfDg8TpoWrY1HA"
    "dsBgFEpdoiumvtywkOdB0fGVTngpw3nRerH HTTP/1.1\r\nHost: nas.example.com:5001\r\n"
    "User-Agent: DSfile/5.3.1 (iPhone; iOS 17.4.1)\r\nAccept: */*\r\n" "\r\n",
    "GET /webapi/entry.cgi?api=SYNO.FileStation.Download&version=2&method=download&path=%5B%22%2Fhome%2FDo"
    "cuments%2Freport.pdf%22%5D&mode=%22open%22&_sid=SyMGEkRNJoU0VeWx2ruPf6OLhx8cXk7yZQY-NrfDg8TpoWrY1HAds"
    "BgFEpdoiumvtywkOdB0fGVTngpw3nRerH HTTP/1.1\r\nHost: nas.example.com:5001\r\n" FPA_CHROME FPA_NAV "\r\n",
    /* Kubernetes API server with a bearer token (kubectl and client-go), probes */
    "GET /api/v1/namespaces/default/pods?limit=500 HTTP/1.1\r\nHost: k8s.example.com:6443\r\n"
    "User-Agent: kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8\r\n"
    "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.i"
    "o,application/json\r\nKubectl-Command: kubectl get\r\nKubectl-Session: c0266144-9771-d833-424d-61fcd2"
    "549121\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwc"
    "zovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpjaTpkZX"
    "Bsb3llciIsImF1ZCI6WyJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJdLCJleHAiOjE3MTQzOTM"
    "2MDAsImt1YmVybmV0ZXMuaW8iOnsibmFtZXNwYWNlIjoiY2kiLCJzZXJ2aWNlYWNjb3VudCI6eyJuYW1lIjoiZGVwbG95ZXIifX19"
    ".3mnUb5KSYoPlX194-8j8Z8SVdJtxIzMt2qtyT7AF9tz3mUASuzpcrUzXkORDp94_juCsp9OqgxhCvxIuBjqk_U\r\n" "\r\n",
    "GET /apis/apps/v1/namespaces/prod/deployments/web HTTP/1.1\r\n"
    "Host: k8s.example.com:6443\r\nUser-Agent: argocd-application-controller/v0.0.0 (linux/amd64) kubernet"
    "es/$Format\r\nAccept: application/json, */*\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX"
    "VCIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6I"
    "nN5c3RlbTpzZXJ2aWNlYWNjb3VudDpjaTpkZXBsb3llciIsImF1ZCI6WyJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2"
    "x1c3Rlci5sb2NhbCJdLCJleHAiOjE3MTQzOTM2MDAsImt1YmVybmV0ZXMuaW8iOnsibmFtZXNwYWNlIjoiY2kiLCJzZXJ2aWNlYWN"
    "jb3VudCI6eyJuYW1lIjoiZGVwbG95ZXIifX19.3mnUb5KSYoPlX194-8j8Z8SVdJtxIzMt2qtyT7AF9tz3mUASuzpcrUzXkORDp94"
    "_juCsp9OqgxhCvxIuBjqk_U\r\n\r\n",
    "PATCH /apis/apps/v1/namespaces/prod/deployments/web?fieldManager=kubectl-rollout HTTP/1.1\r\n"
    "Host: k8s.example.com:6443\r\nUser-Agent: kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8\r\n"
    "Accept: application/json\r\nKubectl-Command: kubectl rollout restart\r\n"
    "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2t1YmV"
    "ybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpjaTpkZXBsb3llciIs"
    "ImF1ZCI6WyJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJdLCJleHAiOjE3MTQzOTM2MDAsImt1Y"
    "mVybmV0ZXMuaW8iOnsibmFtZXNwYWNlIjoiY2kiLCJzZXJ2aWNlYWNjb3VudCI6eyJuYW1lIjoiZGVwbG95ZXIifX19.3mnUb5KSY"
    "oPlX194-8j8Z8SVdJtxIzMt2qtyT7AF9tz3mUASuzpcrUzXkORDp94_juCsp9OqgxhCvxIuBjqk_U\r\n"
    "Content-Type: application/strategic-merge-patch+json\r\nContent-Length: 116\r\n"
    "\r\n{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2"
    "024-05-02T11:20:00+02:00\"}}}}}",
    "GET /api/v1/namespaces/prod/pods/web-7d9f8b6c4-x2x9q/log?container=app&tailLines=100&timestamps=true "
    "HTTP/1.1\r\nHost: k8s.example.com:6443\r\nUser-Agent: kubectl/v1.29.4 (linux/amd64) kubernetes/55019c"
    "8\r\nAccept: application/json, */*\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZ"
    "CI6ImsxIn0.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbT"
    "pzZXJ2aWNlYWNjb3VudDpjaTpkZXBsb3llciIsImF1ZCI6WyJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5"
    "sb2NhbCJdLCJleHAiOjE3MTQzOTM2MDAsImt1YmVybmV0ZXMuaW8iOnsibmFtZXNwYWNlIjoiY2kiLCJzZXJ2aWNlYWNjb3VudCI6"
    "eyJuYW1lIjoiZGVwbG95ZXIifX19.3mnUb5KSYoPlX194-8j8Z8SVdJtxIzMt2qtyT7AF9tz3mUASuzpcrUzXkORDp94_juCsp9Oq"
    "gxhCvxIuBjqk_U\r\n\r\n",
    "POST /apis/batch/v1/namespaces/ci/jobs?fieldManager=kubectl-create HTTP/1.1\r\n"
    "Host: k8s.example.com:6443\r\nUser-Agent: kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8\r\n"
    "Accept: application/json\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0"
    ".eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ2aWNl"
    "YWNjb3VudDpjaTpkZXBsb3llciIsImF1ZCI6WyJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJdL"
    "CJleHAiOjE3MTQzOTM2MDAsImt1YmVybmV0ZXMuaW8iOnsibmFtZXNwYWNlIjoiY2kiLCJzZXJ2aWNlYWNjb3VudCI6eyJuYW1lIj"
    "oiZGVwbG95ZXIifX19.3mnUb5KSYoPlX194-8j8Z8SVdJtxIzMt2qtyT7AF9tz3mUASuzpcrUzXkORDp94_juCsp9OqgxhCvxIuBj"
    "qk_U\r\nContent-Type: application/json\r\nContent-Length: 270\r\n"
    "\r\n{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"db-migrate-118\",\"namespa"
    "ce\":\"ci\"},\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":"
    "\"migrate\",\"image\":\"registry.example.com/team/app:2.4.1\",\"args\":[\"manage.py\",\"migrate\",\"-"
    "-noinput\"]}]}}}}",
    "GET /version?timeout=32s HTTP/1.1\r\nHost: k8s.example.com:6443\r\n"
    "User-Agent: kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8\r\n"
    "Accept: application/json, */*\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im"
    "sxIn0.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ"
    "2aWNlYWNjb3VudDpjaTpkZXBsb3llciIsImF1ZCI6WyJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2Nh"
    "bCJdLCJleHAiOjE3MTQzOTM2MDAsImt1YmVybmV0ZXMuaW8iOnsibmFtZXNwYWNlIjoiY2kiLCJzZXJ2aWNlYWNjb3VudCI6eyJuY"
    "W1lIjoiZGVwbG95ZXIifX19.3mnUb5KSYoPlX194-8j8Z8SVdJtxIzMt2qtyT7AF9tz3mUASuzpcrUzXkORDp94_juCsp9OqgxhCv"
    "xIuBjqk_U\r\n\r\n",
    "GET /readyz?verbose HTTP/1.1\r\nHost: 10.0.0.10:6443\r\nUser-Agent: kube-probe/1.29\r\n" "Accept: */*\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: 10.244.1.17:8080\r\nUser-Agent: kube-probe/1.29\r\n"
    "Accept: */*\r\nConnection: close\r\n\r\n",
    "GET /livez HTTP/1.1\r\nHost: 10.0.0.10:6443\r\nUser-Agent: kube-probe/1.29\r\n" "Accept: */*\r\n\r\n",
    /* Docker registry v2 with a bearer token: ping, manifests, blobs, push */
    "GET /v2/ HTTP/1.1\r\nHost: registry.example.com\r\nUser-Agent: docker/26.1.1 go/go1.21.9 git-commit/a"
    "c2de55 kernel/6.5.0-28-generic os/linux arch/amd64 UpstreamClient(Docker-Client/26.1.1 \\(linux\\))\r"
    "\nAccept-Encoding: gzip\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJlZyJ9"
    ".eyJpc3MiOiJhdXRoLmV4YW1wbGUuY29tIiwic3ViIjoiY2ktYm90IiwiYXVkIjoicmVnaXN0cnkuZXhhbXBsZS5jb20iLCJleHAi"
    "OjE3MTQzOTM2MDAsImFjY2VzcyI6W3sidHlwZSI6InJlcG9zaXRvcnkiLCJuYW1lIjoidGVhbS9hcHAiLCJhY3Rpb25zIjpbInB1b"
    "GwiLCJwdXNoIl19XX0.UPECpVO7UNXZtZuP3py0g5d9DWVXTsH5E4B54CrySGS_WxUAAu1Yw0q9UowYibApohrU-jK-FT2K1l2ALR"
    "NwjO\r\n\r\n",
    "GET /v2/team/app/manifests/2.4.1 HTTP/1.1\r\nHost: registry.example.com\r\n"
    "User-Agent: docker/26.1.1 go/go1.21.9 git-commit/ac2de55 kernel/6.5.0-28-generic os/linux arch/amd64\r"
    "\nAccept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.m"
    "anifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+"
    "json\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJlZyJ9.eyJpc3MiOiJhdXRoLm"
    "V4YW1wbGUuY29tIiwic3ViIjoiY2ktYm90IiwiYXVkIjoicmVnaXN0cnkuZXhhbXBsZS5jb20iLCJleHAiOjE3MTQzOTM2MDAsImF"
    "jY2VzcyI6W3sidHlwZSI6InJlcG9zaXRvcnkiLCJuYW1lIjoidGVhbS9hcHAiLCJhY3Rpb25zIjpbInB1bGwiLCJwdXNoIl19XX0."
    "UPECpVO7UNXZtZuP3py0g5d9DWVXTsH5E4B54CrySGS_WxUAAu1Yw0q9UowYibApohrU-jK-FT2K1l2ALRNwjO\r\n" "\r\n",
    "HEAD /v2/team/app/blobs/sha256:de82eb31f96288b6d8eacf314914bc781ef02216ef29a54358a557f78817592c HTTP/"
    "1.1\r\nHost: registry.example.com\r\nUser-Agent: docker/26.1.1 go/go1.21.9\r\n"
    "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJlZyJ9.eyJpc3MiOiJhdXRoLmV4YW1wbG"
    "UuY29tIiwic3ViIjoiY2ktYm90IiwiYXVkIjoicmVnaXN0cnkuZXhhbXBsZS5jb20iLCJleHAiOjE3MTQzOTM2MDAsImFjY2VzcyI"
    "6W3sidHlwZSI6InJlcG9zaXRvcnkiLCJuYW1lIjoidGVhbS9hcHAiLCJhY3Rpb25zIjpbInB1bGwiLCJwdXNoIl19XX0.UPECpVO7"
    "UNXZtZuP3py0g5d9DWVXTsH5E4B54CrySGS_WxUAAu1Yw0q9UowYibApohrU-jK-FT2K1l2ALRNwjO\r\n" "\r\n",
    "POST /v2/team/app/blobs/uploads/ HTTP/1.1\r\nHost: registry.example.com\r\n"
    "User-Agent: docker/26.1.1 go/go1.21.9\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIm"
    "tpZCI6InJlZyJ9.eyJpc3MiOiJhdXRoLmV4YW1wbGUuY29tIiwic3ViIjoiY2ktYm90IiwiYXVkIjoicmVnaXN0cnkuZXhhbXBsZS"
    "5jb20iLCJleHAiOjE3MTQzOTM2MDAsImFjY2VzcyI6W3sidHlwZSI6InJlcG9zaXRvcnkiLCJuYW1lIjoidGVhbS9hcHAiLCJhY3R"
    "pb25zIjpbInB1bGwiLCJwdXNoIl19XX0.UPECpVO7UNXZtZuP3py0g5d9DWVXTsH5E4B54CrySGS_WxUAAu1Yw0q9UowYibApohrU"
    "-jK-FT2K1l2ALRNwjO\r\nContent-Length: 0\r\n\r\n",
    "PUT /v2/team/app/manifests/2.4.2 HTTP/1.1\r\nHost: registry.example.com\r\n"
    "User-Agent: containerd/1.7.15\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6In"
    "JlZyJ9.eyJpc3MiOiJhdXRoLmV4YW1wbGUuY29tIiwic3ViIjoiY2ktYm90IiwiYXVkIjoicmVnaXN0cnkuZXhhbXBsZS5jb20iLC"
    "JleHAiOjE3MTQzOTM2MDAsImFjY2VzcyI6W3sidHlwZSI6InJlcG9zaXRvcnkiLCJuYW1lIjoidGVhbS9hcHAiLCJhY3Rpb25zIjp"
    "bInB1bGwiLCJwdXNoIl19XX0.UPECpVO7UNXZtZuP3py0g5d9DWVXTsH5E4B54CrySGS_WxUAAu1Yw0q9UowYibApohrU-jK-FT2K"
    "1l2ALRNwjO\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
    "Content-Length: 406\r\n\r\n{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1"
    "+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:e6"
    "3dfa1c7ef6853ac54fff8b3fa5a3bc34f9ac5a0a6e39ebbf65b669972d0626\",\"size\":1470},\"layers\":[{\"mediaT"
    "ype\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:373936081d28a0db506573638ac"
    "c02d384db001dc5bb4bb84554433593fde017\",\"size\":3401967}]}",
    "GET /v2/_catalog?n=100 HTTP/1.1\r\nHost: registry.example.com\r\n"
    "User-Agent: regclient/v0.6.0\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJ"
    "lZyJ9.eyJpc3MiOiJhdXRoLmV4YW1wbGUuY29tIiwic3ViIjoiY2ktYm90IiwiYXVkIjoicmVnaXN0cnkuZXhhbXBsZS5jb20iLCJ"
    "leHAiOjE3MTQzOTM2MDAsImFjY2VzcyI6W3sidHlwZSI6InJlcG9zaXRvcnkiLCJuYW1lIjoidGVhbS9hcHAiLCJhY3Rpb25zIjpb"
    "InB1bGwiLCJwdXNoIl19XX0.UPECpVO7UNXZtZuP3py0g5d9DWVXTsH5E4B54CrySGS_WxUAAu1Yw0q9UowYibApohrU-jK-FT2K1"
    "l2ALRNwjO\r\n\r\n",
    /* Prometheus and Alertmanager UI/API: queries with PromQL, targets, silences, scrapes */
    "GET /api/v1/query?query=sum(rate(http_requests_total%7Bstatus%3D~%225..%22%7D%5B5m%5D))%20by%20(servi"
    "ce)&time=1714390000.123 HTTP/1.1\r\nHost: prometheus.example.com:9090\r\n" FPA_CHROME FPA_FETCH "\r\n",
    "POST /api/v1/query_range HTTP/1.1\r\nHost: prometheus.example.com:9090\r\n" FPA_FIREFOX FPA_FETCH
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 175\r\n"
    "\r\nquery=histogram_quantile%280.99%2C+sum+by+%28le%29+%28rate%28http_request_duration_seconds_bucket"
    "%7Bjob%3D%22api%22%7D%5B5m%5D%29%29%29&start=1714368000&end=1714390000&step=60",
    "GET /api/v1/targets?state=active HTTP/1.1\r\nHost: prometheus.example.com:9090\r\n" FPA_CHROME FPA_FETCH
    "Referer: http://prometheus.example.com:9090/targets?search=\r\n" "\r\n",
    "GET /graph?g0.expr=up%7Bjob%3D%22node%22%7D%20%3D%3D%200&g0.tab=1&g0.range_input=1h HTTP/1.1\r\n"
    "Host: prometheus.example.com:9090\r\n" FPA_CHROME FPA_NAV "\r\n",
    "GET /api/v2/alerts?silenced=false&inhibited=false&active=true&filter=severity%3D%22critical%22 HTTP/1"
    ".1\r\nHost: alertmanager.example.com:9093\r\n" FPA_FIREFOX FPA_FETCH "\r\n",
    "POST /api/v2/silences HTTP/1.1\r\nHost: alertmanager.example.com:9093\r\n"
    "User-Agent: amtool/0.27.0\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
    "Content-Length: 301\r\n\r\n{\"matchers\":[{\"name\":\"alertname\",\"value\":\"DiskFull\",\"isRegex\":"
    "false,\"isEqual\":true},{\"name\":\"instance\",\"value\":\"db0[1-3]:9100\",\"isRegex\":true,\"isEqual"
    "\":true}],\"startsAt\":\"2024-05-02T09:00:00Z\",\"endsAt\":\"2024-05-02T13:00:00Z\",\"createdBy\":\"a"
    "lice\",\"comment\":\"Maintenance: resizing volumes; see OPS-1234\"}",
    "GET /metrics HTTP/1.1\r\nHost: 10.0.3.21:9100\r\nUser-Agent: Prometheus/2.51.2\r\n"
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
    "GET /-/ready HTTP/1.1\r\nHost: prometheus.example.com:9090\r\n"
    "User-Agent: kube-probe/1.29\r\nAccept: */*\r\n\r\n",
    /* SOAP calls to ordinary services (currency rates, orders with WS-Security) */
    "POST /ws/CurrencyService HTTP/1.1\r\nHost: rates.example.com\r\n"
    "User-Agent: Apache-HttpClient/4.5.14 (Java/17.0.10)\r\nSOAPAction: \"urn:GetRate\"\r\n"
    "Accept: text/xml\r\nContent-Type: text/xml;charset=UTF-8\r\nContent-Length: 327\r\n"
    "\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoa"
    "p.org/soap/envelope/\" xmlns:cur=\"http://rates.example.com/currency\"><soapenv:Header/><soapenv:Body"
    "><cur:GetRate><cur:from>EUR</cur:from><cur:to>USD</cur:to><cur:date>2024-05-02</cur:date></cur:GetRat"
    "e></soapenv:Body></soapenv:Envelope>",
    "POST /axis2/services/OrderService.OrderServiceHttpSoap11Endpoint/ HTTP/1.1\r\n"
    "Host: erp.example.com:8080\r\nUser-Agent: Axis2\r\nSOAPAction: \"urn:placeOrder\"\r\n"
    "Accept: text/xml\r\nContent-Type: text/xml; charset=UTF-8\r\n"
    "Content-Length: 726\r\n\r\n<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"ht"
    "tp://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header><wsse:Security xmlns:wsse=\"http://docs.oas"
    "is-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><wsse:UsernameToken><wsse:Userna"
    "me>erp-client</wsse:Username><wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-20040"
    "1-wss-username-token-profile-1.0#PasswordDigest\">bIP7wAP50WPxF1elYbVewCOq1Dc=</wsse:Password></wsse:"
    "UsernameToken></wsse:Security></soapenv:Header><soapenv:Body><ns1:placeOrder xmlns:ns1=\"http://erp.e"
    "xample.com/orders\"><ns1:customer>O'Brien Ltd</ns1:customer><ns1:sku>UJ-42</ns1:sku><ns1:qty>3</ns1:q"
    "ty></ns1:placeOrder></soapenv:Body></soapenv:Envelope>",
    /* File uploads of ordinary images, PDFs, SVGs and office files via multipart */
    "POST /upload HTTP/1.1\r\nHost: photos.example.com\r\n" FPA_CHROME FPA_FETCH
    "Cookie: session=eEXZIhKqLrK2nJ5fTWn3pN2VF_PUHkFqGNYzVda3\r\nContent-Type: multipart/form-data; bounda"
    "ry=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Length: 438\r\n"
    "\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"album\"\r\n"
    "\r\nSummer 2024\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"IMG_2041.JPG\"\r\n"
    "Content-Type: image/jpeg\r\n\r\n" FPA_JPEG "\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST /api/v1/documents HTTP/1.1\r\nHost: docs.example.com\r\n" FPA_FIREFOX FPA_FETCH
    "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1XzEwNDIiLCJzY29"
    "wZSI6ImRvY3VtZW50czp3cml0ZSIsImV4cCI6MTcxNDM5MzYwMH0.YhMw-gYM_5lI8QSI93QDXFJOpeGcisVu0jU44WAQL3eThOOw"
    "LcATFtKno4Zna9rQvtcjQC13XFljP5v8fwllzE\r\nContent-Type: multipart/form-data; boundary=---------------"
    "------------47137036136184553453066612110\r\nContent-Length: 607\r\n"
    "\r\n-----------------------------47137036136184553453066612110\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n\r\nLease agreement (signed)\r\n"
    "-----------------------------47137036136184553453066612110\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"lease-agreement-signed.pdf\"\r\n"
    "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n%\342\343\317\323\n"
    "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n"
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0"
    " 0 595 842] >>\nendobj\ntrailer\n<< /Root 1 0 R /Size 4 >>\n%%EOF\n"
    "\r\n-----------------------------47137036136184553453066612110--\r\n",
    "POST /user/settings/avatar HTTP/1.1\r\nHost: gitea.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: i_like_gitea=8fa6eb9eb2b67d8b; _csrf=CiHru0E3ndrr8NX-NvZi-FQr14k1ToTXUtjHfqEWG22\r\n"
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Length: 509\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"_csrf\"\r\n\r\nYTvPOi4ygCyxXwBvOpqQEYaCdlMZed8pPEpL6Peb4n1\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"source\"\r\n"
    "\r\nlocal\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"avata"
    "r\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n\211PNG\r\n"
    "\032\n\001\001\001\rIHDR\001\001\002\200\001\001\001\340\010\006\001\001\0015\321\334\344\001\001\001"
    "\tpHYs\001\001\013\023\001\001\013\023\001\232\234\030\001\001 \001IDATx\234\355\3011\r\001\001\001\302"
    "\240\365O\355a\r\240\001\001\276\r!\001\001\001\001IEND\256B`\202\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST /brand/logo HTTP/1.1\r\nHost: app.example.com\r\n" FPA_SAFARI FPA_FETCH
    "Cookie: session=uBdOqze2fqewEmi897BGw7dW8xUNh4Ln7bAILLXv\r\nContent-Type: multipart/form-data; bounda"
    "ry=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Length: 383\r\n"
    "\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"logo\"; filena"
    "me=\"logo.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewB"
    "ox=\"0 0 64 64\" width=\"64\" height=\"64\"><title>Acme</title><circle cx=\"32\" cy=\"32\" r=\"30\" f"
    "ill=\"#0a6\"/><path d=\"M20 44 L32 16 L44 44 Z\" fill=\"#fff\"/></svg>\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST /careers/apply HTTP/1.1\r\nHost: www.example.com\r\n" FPA_CHROME FPA_NAV
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Length: 702\r\n\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"name\"\r\n\r\nConan O'Brien\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"email\"\r\n"
    "\r\nconan@example.net\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\n"
    "Content-Disposition: form-data; name=\"cover\"\r\n\r\nI have 5 years of experience with SQL (select/u"
    "nion/joins) and shell scripting (bash, cat, grep, wget, curl).\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"C"
    "V_Conan_OBrien.docx\"\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml"
    ".document\r\n\r\nPK\003\004\024\006\010\010\010\010[Content_Types].xml\255\224\313n\3020\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    "POST /import/contacts HTTP/1.1\r\nHost: crm.example.com\r\n" FPA_CHROME FPA_FETCH
    "Cookie: session=A306lsvVM_OvlacxtqjkKvOupRqOrU1CuczAUZ5u\r\nContent-Type: multipart/form-data; bounda"
    "ry=----WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Length: 334\r\n"
    "\r\n------WebKitFormBoundarySAJaiXnkU8Is2g8n\r\nContent-Disposition: form-data; name=\"file\"; filena"
    "me=\"contacts.csv\"\r\nContent-Type: text/csv\r\n\r\nfirst_name,last_name,email,notes\n"
    "Siobhan,O'Brien,siobhan@example.net,\"Prefers email; no calls\"\n"
    "Dara,O'Neill,dara@example.net,\"Union rep | shift lead\"\n\r\n"
    "------WebKitFormBoundarySAJaiXnkU8Is2g8n--\r\n",
    /* Search forms with ordinary text: SQL and shell words, apostrophes, code snippets */
    "GET /search?q=select+count+from+table+tutorial&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=union+station+chicago+parking&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=exec+summary+template+word&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=script+tag+async+vs+defer&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=cat+food+for+senior+cats&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=O%27Brien+family+history&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=don%27t+stop+believin%27+lyrics&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=mysql+drop+table+if+exists+syntax&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=sleep+apnea+treatment+options&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=benchmark+results+2024+laptops&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=passwd+file+format+linux&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=rm+-rf+node_modules+then+npm+install&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=wget+vs+curl+download+file&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=ping+google.com+from+cmd&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=%24%28document%29.ready+jquery&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=bash+%26%26+operator+vs+%3B&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=1+cup+%3D+how+many+grams&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=what+does+%7C%7C+mean+in+javascript&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=%3Cbr%3E+vs+%3Cbr%2F%3E+html&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=100%25+cotton+t-shirt+--+size+M&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=select+%2A+from+users+where+id+%3D+1&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /search?q=and+1%3D1+meaning+in+english&src=typed_query HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_CHROME FPA_NAV "Referer: https://www.example.com/\r\n\r\n",
    "GET /directory?last_name=O%27Brien&first_name=Conan&dept=Sales+%26+Marketing HTTP/1.1\r\n"
    "Host: intranet.example.com\r\n" FPA_FIREFOX FPA_NAV "\r\n",
    "GET /wiki/Special:Search?search=Union+Pacific+Railroad&title=Special%3ASearch&ns0=1 HTTP/1.1\r\n"
    "Host: wiki.example.org\r\n" FPA_SAFARI FPA_NAV "\r\n",
    "POST /contact HTTP/1.1\r\nHost: www.example.com\r\n" FPA_CHROME FPA_NAV
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 250\r\n"
    "\r\nname=Pat+O%27Malley&email=pat%40example.net&subject=Problem+with+%27select+all%27&message=Hi+--+t"
    "he+%27select+all%27+button+doesn%27t+work%3B+I+click+it+and+nothing+happens.+Also+the+union+jack+flag"
    "+%28size+3%27+x+5%27%29+is+out+of+stock%3F+Thanks%21",
    "GET /products?category=Home+%26+Garden&sort=price_asc&filter=brand%3Asony%2Cbrand%3Alg&price=10-50 HT"
    "TP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_NAV "\r\n",
    /* URLs in query parameters: redirects, share links, image proxies, webhooks */
    "GET /login?redirect=https%3A%2F%2Fexample.com%2Fdashboard%3Ftab%3Dbilling HTTP/1.1\r\n"
    "Host: accounts.example.com\r\n" FPA_CHROME FPA_NAV "\r\n",
    "GET /share?url=https%3A%2F%2Fnews.example.org%2F2024%2F05%2F02%2Fstory.html&title=City+council+votes "
    "HTTP/1.1\r\nHost: social.example.com\r\n" FPA_FIREFOX FPA_NAV "\r\n",
    "GET /l/?u=https%3A%2F%2Fwww.example.com%2Fsale%3Futm_source%3Dfb&h=ATzhdW6VvHDwcpzF_8ZWIWXhRVolR9ORjn"
    "mZc4oQu_ HTTP/1.1\r\nHost: l.example.com\r\n" FPA_SAFARI FPA_NAV "\r\n",
    "GET /_next/image?url=%2Fimages%2Fhero.jpg&w=1920&q=75 HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    "Accept: image/avif,image/webp,*/*\r\n\r\n",
    "GET /image-proxy?src=https%3A%2F%2Fimages.example.net%2Fproducts%2F42.jpg&w=800&fit=cover HTTP/1.1\r\n"
    "Host: cdn.example.com\r\n" FPA_CHROME "Accept: image/avif,image/webp,*/*\r\n\r\n",
    "GET /sso/logout?returnTo=https%3A%2F%2Fapp.example.com%2F&client_id=web HTTP/1.1\r\n"
    "Host: auth.example.com\r\n" FPA_CHROME FPA_NAV "\r\n",
    "GET /redirect?to=%2Faccount%2Forders%3Fpage%3D2 HTTP/1.1\r\nHost: www.example.com\r\n" FPA_CHROME FPA_NAV
    "\r\n",
    "GET /?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale&fbclid=IwAR5VHNKESiIWCCd4L6eXZo"
    "rDQrvIJCPGUljmLa4jAH&gclid=kdnL9Sw7w6ZcjifRnyFcMb4v7s-DtzaUs_zUT2X8 HTTP/1.1\r\n" "Host: www.example.com\r\n"
    FPA_SAFARI FPA_NAV "\r\n",
    "POST /api/webhooks HTTP/1.1\r\nHost: ci.example.com\r\nUser-Agent: Mozilla/5.0\r\n" FPA_FETCH
    "Authorization: Bearer aZftMhjsP9kwbo3AmgRQVlM3733YMT0WToc3xjTM\r\n"
    "Content-Type: application/json\r\nContent-Length: 135\r\n\r\n"
    "{\"url\":\"https://hooks.slack.com/services/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\",\"events\""
    ":[\"push\",\"merge_request\"],\"active\":true}",
    "GET /api/preview?url=https%3A%2F%2Fgithub.com%2Fexample%2Fproject%2Fpull%2F42 HTTP/1.1\r\n"
    "Host: chat.example.com\r\n" FPA_CHROME FPA_FETCH "\r\n",
    /* Long cookies and tokens: JWTs, signed sessions, consent cookies, an ASP.NET postback, framework XSRF */
    "GET /api/me HTTP/1.1\r\nHost: api.example.com\r\n" FPA_CHROME FPA_FETCH
    "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2F1dGg"
    "uZXhhbXBsZS5jb20vIiwic3ViIjoiYXV0aDB8NWYzYTJjMWIiLCJhdWQiOlsiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20iLCJodHRw"
    "czovL2V4YW1wbGUuZXUuYXV0aDAuY29tL3VzZXJpbmZvIl0sImlhdCI6MTcxNDM5MDAwMCwiZXhwIjoxNzE0NDc2NDAwLCJzY29wZ"
    "SI6Im9wZW5pZCBwcm9maWxlIGVtYWlsIHJlYWQ6b3JkZXJzIiwiYXpwIjoicGtHaWJOMnhUb3VtTzhrTHBXWEdlekVwS3NUSlFqen"
    "UifQ.MHGZfaKggLh-XgAm7cvf0OcBOqN5-CcasEox0ycn1J438jW00bGb7fPKv3BBh-UY8Qm3aSyAlCw4pdrIQGKkFl\r\n" "\r\n",
    "GET /account HTTP/1.1\r\nHost: www.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: _ga=GA1.1.428261774.1714000000; _ga_ABC123=GS1.1.1714390000.3.1.1714390100.0.0.0; session=eyJ"
    "1c2VyX2lkIjoxMDQyLCJfZnJlc2giOnRydWUsImNzcmZfdG9rZW4iOiI1MzIyOTBiNWNkMzNlOWZlYzNkN2M2YWZjYzgzMWU4NjRl"
    "YzhiNDVkIn0.TiePC1.KE4m4INNzmCwuQ8LCDTcKLYJRl1; CookieConsent={stamp:%27cQlPU19DkvGi8qaTmD3HGbEksNl1u"
    "3RrfSLkbBSdlUTjRopg%3D%3D%27%2Cnecessary:true%2Cpreferences:true%2Cstatistics:false%2Cmarketing:false"
    "%2Cmethod:%27explicit%27%2Cver:1%2Cutc:1714390000123%2Cregion:%27ie%27}; OptanonConsent=isGpcEnabled="
    "0&datestamp=Thu+May+02+2024+10%3A11%3A12+GMT%2B0200+(Central+European+Summer+Time)&version=202401.1.0"
    "&isIABGlobal=false&hosts=&consentId=23fa7b3a-99b7-d87d-e864-40285b86ce53&interactionCount=1&landingPa"
    "th=NotLandingPage&groups=C0001%3A1%2CC0002%3A0\r\n\r\n",
    "POST /profile HTTP/1.1\r\nHost: app.example.com\r\n" FPA_CHROME FPA_XHR
    "X-XSRF-TOKEN: eyJpdiI6IlRxekdMZXBwaHJhQzVNOTlaWnJiTVhxcyIsInZhbHVlIjoianZwU1pxa1pnWk1ZOEo5Z3hWamRDMUZ"
    "QcnZFdGo4TDFYNHlSNXlkZVZUbVh6NDFMMmlxTEtGSjVraE5lVjNHaCIsIm1hYyI6IjQ0N2E5OTI4NmMwZDdjZTBlYzAzN2M4NzAz"
    "ZWQyN2U5NjFiMTMwZjRjNGU4YmM1NjJhZDY5YTFiMzFhODg4ZGUiLCJ0YWciOiIifQ\r\n"
    "Cookie: XSRF-TOKEN=eyJpdiI6ImNkZHdrVTZIc25MekhQdnJyNXRJTklOZiIsInZhbHVlIjoicVZNOFZ1Y2V5Q28xTDBETGNFRW"
    "NCQjRldmFnOUZhTzJJeERsYVBWVG9mYVpEcDRnQVVDbXliTU9WQUJHMUQyYiIsIm1hYyI6ImZmYjNjYTBjOGQyZmMzZjNjM2ZkMDN"
    "mOTFkODBmN2JlYzM5MWE5N2MwZGU0ZjkxOTA0YTE3MDU4N2M3YTQzN2UiLCJ0YWciOiIifQ; laravel_session=eyJpdiI6Img0"
    "WThXSnpjTDJqOXhTN1hCaFJ5ZkQ3SCIsInZhbHVlIjoiSzExQVoxanI3dkVVVkVKWUk3VGlzQ2w0SDJ6ZGd3SmYwMTBITjQ4SnpUT"
    "zVBRDM2MFFHNXhMeGNvaDF6VTFJNkxVdHJackoycmtjUnpRbWlMSW4zWDRKUHNzQnIzSE14IiwibWFjIjoiOTA5YTM5ZTVlMzJiYz"
    "U1NjIwMmMyNDdlMWRlMzBjYTY3ZGJlYjRjMjlkOTkzNmRhZTk2ZjljMjNlMmVkOGY4YyIsInRhZyI6IiJ9\r\n"
    "Content-Type: application/json\r\nContent-Length: 79\r\n\r\n{\"name\":\"Siobhan O'Brien\",\"bio\":\"U"
    "nion organiser; likes cats & bash scripting\"}",
    "GET /dashboard HTTP/1.1\r\nHost: rails.example.com\r\n" FPA_SAFARI FPA_NAV
    "Cookie: _myapp_session=NdU3YA9wrwPKyTn0Qkp57k9RWgC0Dj/vb2C70ZLLcnwZ1v63uxNcInO50s1Ve2qgxo/5E/aGUHsmKb"
    "e/m40JFIWaLwTmuISp2cPFK%2BpEzjv5diX7XU6sRyIYmujeMqxdoBB43vm/dcmas9twKBDxo/a3a%2BE8bp8AhlR4ak%2BXZnyrC"
    "MlsYSW0kOvSMmg0i6krgBcqdpZ3hrDnkBiRbuOvrPX2gL5/nuFr1hX8/qRfhMeffEZeQ/s/vHYd28YFrFKjsP%2BTWMTwQmbq8K9r"
    "yasC%2B%2BZZP6cMrTNYouK0NFmx78ir--T0i1BMfLFN2WrlbMu8E9qFht--2uCmIBh7fc8mq0QR6Ba7kR%3D%3D; remember_us"
    "er_token=FiR7aafSDiQ%2B0uA31HN/FzR/%2BWSzQ1jiKeO6uMXbRCLqdodPG1XEL99b0maS78VFsaqPa4NPqSGiA/1GQq21I3eu"
    "yS2hvmL4CpOy/5WPuEeBTGk7pHee5g84%3D%3D--c375b3be41d62ef430dd737ea6a2e5a2a038d5a1\r\n" "\r\n",
    "POST /Orders/Edit.aspx?id=42 HTTP/1.1\r\nHost: erp.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: ASP.NET_SessionId=2hunktjrqr2jsq2nkm2invlz; .ASPXAUTH=9CFC4B1D85A6C844BE645A80D5282639FA798B1"
    "310582D67FAE1983CB936A9882712CB5DA875953507BF4DE51B20A401549935D49A54E5EC549C4A7CB2AE33834AAD0335D8A1"
    "483BBA4EE1A9A3A1BCBBE842926D1195D24734E0717074C45CF807A9F1BD4E4A0F40AFCB0F13F22CA78E2EE9BF6D2D3B4D677"
    "77A0C8910D9C95FEE9C13EA50F578B3A0BBC3AAA94502EA730B6D8A8028B2C80BD0980B117E3A28\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 408\r\n"
    "\r\n__EVENTTARGET=ctl00%24MainContent%24btnSave&__EVENTARGUMENT=&__VIEWSTATE=%2FwEPDwUKMTY3NzE5MjIwMg"
    "9kFgJmD2QWAgIDD2QWAgIBD2QWBAIBDw8WAh4EVGV4dAUKT3JkZXIgIzQyZGQCAw8QZGQWAWZkZGTRxD5m0Vb0hU8fCkVqQjxkAoF"
    "6sA%3D%3D&__VIEWSTATEGENERATOR=0C1A3F5B&__EVENTVALIDATION=%2FwEdAAPu4bD8t2WzEJ7n7qgM3J1bY0nx0Qhq2YPH9"
    "v6JxY3k9pgZ0y8mD8pA%3D%3D&ctl00%24MainContent%24txtCustomer=O%27Brien+%26+Sons&ctl00%24MainContent%24"
    "txtQty=3",
    "GET /portal/home HTTP/1.1\r\nHost: portal.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=B342EE758AF8D62014EA5DD9D602448E; rememberMe=WADuoCH3heeN5aJdNdcM4Op3o8Uz8Upw5XMM5"
    "/NJevQK088wR2/X7kMUqvcef5y/3SadsqIJnP8X77AzJE3YDQZs0patYhZAfpHEmBNDx14tC5SEU7oi7CkrsCIJ4A1O9LPiBxLeyc"
    "PpA1VBKWdcWpryHs3Q/ZmAZr0a5dnFrxd0xJLMNnP+GLEaEQd1yeisTr6W5h7Hmbd9muAQJOcQCU/UAhuwa9AhfpR1huppSCn/AdK"
    "86a9RP6PAoXYwICZmJOV4sOZwjZhzO1dgw0M2XURjTSa/VaeXSyJ8soLcICDMKNve1rvy2UFmabVy4d38cJ+20im3h/F5/tD8UnmN"
    "+9JJ==\r\n\r\n",
    "GET /api/orders?status=open HTTP/1.1\r\nHost: api.example.com\r\n"
    "User-Agent: okhttp/4.12.0\r\nAccept: application/json\r\nAuthorization: Bearer eyJhbGciOiJFUzI1NiIsIn"
    "R5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJkZXZpY2UtODgxMiIsInJvbGVzIjpbImN1c3RvbWVyIl0sImV4cCI6MTcxNDM"
    "5MzYwMCwianRpIjoiNWVlYmY4YWM0ZTAyYjk0YiJ9.op0_ATQavczqxQ4FeqESInv1-kwvZjdc-iW-Oa8J1gJPMt_c8K9vgT_QGUZ"
    "_Tc9i7ANyhekNlGgVeR6R8BSasn\r\nX-Request-ID: 91ae27c8-e483-476e-53ae-ac5548c0f322\r\n" "\r\n",
    /* GraphQL queries and mutations that are not introspection (Apollo adds __typename) */
    "POST /graphql HTTP/1.1\r\nHost: api.example.com\r\n" FPA_CHROME FPA_FETCH
    "apollographql-client-name: web\r\nAuthorization: Bearer 2UcNdeGpLJxtMEQM85pLpLPzNrGehGqtP8f-PbbQ\r\n"
    "Content-Type: application/json\r\nContent-Length: 164\r\n\r\n"
    "{\"operationName\":\"GetViewer\",\"variables\":{},\"query\":\"query GetViewer {\\n  viewer {\\n    id"
    "\\n    login\\n    name\\n    avatarUrl(size: 64)\\n    __typename\\n  }\\n}\\n\"}",
    "POST /graphql HTTP/1.1\r\nHost: api.example.com\r\n" FPA_FIREFOX FPA_FETCH
    "Authorization: Bearer ARBBJWhhaOMreAXZ1EOMcWGKNkgwzt8EeI5Hv37w\r\n"
    "Content-Type: application/json\r\nContent-Length: 325\r\n\r\n"
    "{\"operationName\":\"CreateIssue\",\"variables\":{\"input\":{\"title\":\"Search for O'Brien fails\",\""
    "body\":\"Searching `O'Brien` returns a 500; maybe the query isn't escaped (select ... where name = '."
    "..')\"}},\"query\":\"mutation CreateIssue($input: CreateIssueInput!) {\\n  createIssue(input: $input)"
    " {\\n    issue { id number url }\\n  }\\n}\"}",
    "GET /api/2024-04/graphql.json?query=%7Bshop%7Bname%20primaryDomain%7Burl%7D%7D%7D HTTP/1.1\r\n"
    "Host: store.example.com\r\nUser-Agent: Shopify-Storefront/1.0\r\n"
    "Accept: application/json\r\nX-Shopify-Storefront-Access-Token: d51af0408afe2938407cf7ba849b7920\r\n" "\r\n",
    "POST /graphql HTTP/1.1\r\nHost: api.example.com\r\n" FPA_CHROME FPA_FETCH
    "Content-Type: application/json\r\nContent-Length: 230\r\n\r\n"
    "{\"operationName\":\"ProductList\",\"variables\":{\"first\":20,\"after\":null,\"filter\":{\"category\""
    ":\"union-jack\"}},\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"09ae895cb72e3368"
    "19ffdf0b91e1fc0ab620fb752c0bc311ce041b325628eda4\"}}}",
    /* OAuth 2.0 / OpenID Connect: authorize, callbacks with code and state, token exchange, discovery */
    "GET /oauth2/callback?state=XtAPI4NpXqT7FbSNJwu-KpWS_pgmc6j1&code=4%2F0AeaYSHndUUl9uwIi9HinNKM-TpG29aX"
    "J8QnlO7_QxCswFgJvU-ek4OUilcgB0vuJi-&scope=email+openid+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuser"
    "info.email&authuser=0&prompt=consent HTTP/1.1\r\nHost: app.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://accounts.google.com/\r\n\r\n",
    "GET /auth/callback?state=de21b241f871a0a8633b923e7b81726c&session_state=d9bba602-f26b-f066-1a54-b4b6e"
    "5a2af69&iss=https%3A%2F%2Fsso.example.com%2Frealms%2Fcorp&code=f111ea25bcb26ee8f4642cd11d4148d3edda.c"
    "8164b6b1bb59d6a38fda97ebdd293f4b55a.7775e4822fde2bfb322c2b9b806427be5d04 HTTP/1.1\r\n"
    "Host: app.example.com\r\n" FPA_FIREFOX FPA_NAV "\r\n",
    "POST /oauth/token HTTP/1.1\r\nHost: auth.example.com\r\nUser-Agent: node-fetch/1.0\r\n"
    "Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 236\r\n\r\ngrant_type=authorization_code&code=Yvkio3R2S_jZPj2ljFJaTpHKT-awXnYGdbREK_t"
    "O8oy&redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback&client_id=web-app&code_verifier=E1F"
    "xsFkXwGZERUCxCVcO3WB0-Fb8KbPzJ7cF6Wx9K2l7Fyveh_HPSrB-6yl3bEBe",
    "GET /realms/corp/protocol/openid-connect/auth?client_id=account-console&redirect_uri=https%3A%2F%2Fss"
    "o.example.com%2Frealms%2Fcorp%2Faccount%2F%23%2F&state=e3421724bd0b3de5d53e2fbb325be6f4f56a&response_"
    "mode=fragment&response_type=code&scope=openid&nonce=7ed9fc0dc7fdfbf06b9956226b42418a596e&code_challen"
    "ge=dOOBL5nXX0XKTI1Ek7CjIwh8JTV9UBouEQZJEHUYhAP&code_challenge_method=S256 HTTP/1.1\r\n"
    "Host: sso.example.com\r\n" FPA_CHROME FPA_NAV "\r\n",
    "GET /login/oauth/authorize?client_id=Iv1.6ba2f4be3f25f275&redirect_uri=https%3A%2F%2Fapp.example.com%"
    "2Fgithub%2Fcallback&scope=read%3Auser%20user%3Aemail&state=VbpPcZqDpIvuLuktezhRcmCTiKqA99JT HTTP/1.1\r"
    "\nHost: github.example.com\r\n" FPA_SAFARI FPA_NAV "\r\n",
    "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: sso.example.com\r\n"
    "User-Agent: oauth4webapi/v2.10.4\r\nAccept: application/json\r\n" "\r\n",
    "GET /.well-known/jwks.json HTTP/1.1\r\nHost: auth.example.com\r\n"
    "User-Agent: jwks-rsa/3.1.0\r\nAccept: application/json\r\n\r\n",
    /* Health checks and monitoring (load balancers, uptime monitors, Spring Boot, nginx) */
    "GET /status HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0+(compatible; UptimeRobot/2.0"
    "; http://www.uptimerobot.com/)\r\nAccept: */*\r\n\r\n",
    "GET /health HTTP/1.1\r\nHost: 10.0.1.23\r\nUser-Agent: ELB-HealthChecker/2.0\r\n"
    "Accept-Encoding: gzip, compressed\r\nConnection: close\r\n\r\n",
    "GET /actuator/health/readiness HTTP/1.1\r\nHost: 10.244.2.9:8081\r\n"
    "User-Agent: kube-probe/1.29\r\nAccept: */*\r\n\r\n",
    "GET /api/health HTTP/1.1\r\nHost: grafana.example.com:3000\r\n"
    "User-Agent: Consul Health Check\r\nAccept: text/plain, text/*, */*\r\n" "\r\n",
    "GET /ping HTTP/1.1\r\nHost: 10.0.1.23:8080\r\nUser-Agent: GoogleHC/1.0\r\n" "Connection: Keep-alive\r\n\r\n",
    "GET /nginx_status HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Datadog Agent/7.52.1\r\n" "Accept: */*\r\n\r\n",
    /* Other everyday traffic: CORS preflight, HEAD, templates with merge fields, a Struts action, an API behind a
     * proxy */
    "OPTIONS /api/orders HTTP/1.1\r\nHost: api.example.com\r\n" FPA_CHROME
    "Accept: */*\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,c"
    "ontent-type\r\nOrigin: https://app.example.com\r\n\r\n",
    "HEAD /downloads/installer-2.4.1.dmg HTTP/1.1\r\nHost: dl.example.com\r\n"
    "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
    "POST /api/campaigns/88/template HTTP/1.1\r\nHost: mail.example.com\r\n" FPA_CHROME FPA_FETCH
    "Content-Type: application/json\r\nContent-Length: 194\r\n\r\n"
    "{\"subject\":\"Hi {{ first_name }}, your order #{{order.id}} shipped\",\"html\":\"<p>Dear ${customer."
    "name},</p><p>Track it <a href=\\\"https://track.example.com/?id={{ order.tracking }}\\\">here</a>.</p" ">\"}",
    "GET /orders/view.action?orderId=42&tab=history HTTP/1.1\r\nHost: erp.example.com:8080\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: JSESSIONID=88F657EB08803FF9E25F4983C028716E\r\n\r\n",
    "POST /login.action HTTP/1.1\r\nHost: erp.example.com:8080\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: JSESSIONID=CA5CF68F5A8250E9D6BE1298E419D48D\r\nContent-Type: application/x-www-form-urlencode"
    "d\r\nContent-Length: 102\r\n\r\nusername=alice&password=Sage%26Cedar-90&struts.token.name=token&token"
    "=BEB03208D3276A2127A74AE5427F2013",
    "GET /api/v1/items?ids=1,2,3&fields=name,price HTTP/1.1\r\nHost: api.example.com\r\n"
    "User-Agent: Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12"
    "4.0.0.0 Mobile Safari/537.36\r\nAccept: application/json\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.4\r\n"
    "X-Forwarded-Proto: https\r\nVia: 1.1 varnish (Varnish/7.4)\r\n" "\r\n",
    "GET /spring/greeting?name=World&lang=en HTTP/1.1\r\nHost: app.example.com:8080\r\n" FPA_CHROME FPA_NAV "\r\n",
    "POST /api/translate HTTP/1.1\r\nHost: i18n.example.com\r\n" FPA_CHROME FPA_FETCH
    "Content-Type: application/json\r\nContent-Length: 95\r\n\r\n{\"text\":\"Please run the install script"
    "; then restart the service.\",\"source\":\"en\",\"target\":\"de\"}",
};

/* A logged-in WordPress administrator's cookies (the plugin admin pages below send them). */
#define FPA_WP_LOGGED_IN                                                                                        \
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2H"      \
    "PcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-set"      \
    "tings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"

/*
 * A second audit, of the rules added in the (2026-12) sections of classify.rules: ordinary use of the
 * products they name (WooCommerce Payments, Ultimate Member, ProfilePress, Elementor add-ons, Contact Form 7,
 * wpDiscuz, the slider plugins, Zabbix, Nagios XI, ColdFusion, QNAP Photo Station, Spark, Consul, Salt, Nexus,
 * Artifactory, Harbor, SonarQube, Rocket.Chat, Jenkins, H2, actuator and Jolokia, Chinese OA suites, JSON
 * bodies with "@type", Shiro, PHP admin tools, Drupal REST, appliance and router UIs).  Generated with exact
 * Content-Lengths; grouped by application.
 */
static const char *const benign_apps2[] = {
    /* WooCommerce with WooCommerce Payments: the store API cart, the checkout with a card token, the payments REST
     * API from the admin */
    "GET /wp-json/wc/store/v1/cart HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_FETCH
    "Nonce: 8b7d2e41f0\r\nReferer: https://shop.example.com/cart/\r\n"
    "Cookie: wp_woocommerce_session_8f14e45fceea167a5a36dedd4bea2543=t_5c1e0b7a2d%7C%7C1715200000%7C%7C17"
    "15196400%7C%7C0b1a8e2f7c; woocommerce_items_in_cart=1; woocommerce_cart_hash=3e0a51c2b3f0a44c1a9b6d9"
    "c2f8e7d61\r\n\r\n",
    "POST /wp-json/wc/store/v1/cart/add-item HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_FETCH
    "Nonce: 8b7d2e41f0\r\nOrigin: https://shop.example.com\r\nCookie: wp_woocommerce_session_8f14e45fceea"
    "167a5a36dedd4bea2543=t_5c1e0b7a2d%7C%7C1715200000%7C%7C1715196400%7C%7C0b1a8e2f7c; woocommerce_items"
    "_in_cart=1; woocommerce_cart_hash=3e0a51c2b3f0a44c1a9b6d9c2f8e7d61\r\n"
    "Content-Type: application/json\r\nContent-Length: 78\r\n\r\n"
    "{\"id\":1184,\"quantity\":2,\"variation\":[{\"attribute\":\"pa_size\",\"value\":\"large\"}]}",
    "POST /?wc-ajax=checkout HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_XHR
    "Origin: https://shop.example.com\r\nReferer: https://shop.example.com/checkout/\r\n"
    "Cookie: wp_woocommerce_session_8f14e45fceea167a5a36dedd4bea2543=t_5c1e0b7a2d%7C%7C1715200000%7C%7C17"
    "15196400%7C%7C0b1a8e2f7c; woocommerce_items_in_cart=1; woocommerce_cart_hash=3e0a51c2b3f0a44c1a9b6d9"
    "c2f8e7d61\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 515\r\n\r\n"
    "billing_first_name=Alice&billing_last_name=Martin&billing_company=&billing_country=US&billing_addres"
    "s_1=12+Main+St&billing_city=Portland&billing_state=OR&billing_postcode=97201&billing_phone=503555014"
    "2&billing_email=alice%40example.org&order_comments=Please+leave+it+at+the+back+door%3B+thanks%21&pay"
    "ment_method=woocommerce_payments&wcpay-payment-method=pm_1PGk2LHq4Xz9aB7cD8eF0gH1&wcpay-is-platform-"
    "payment-method=0&woocommerce-process-checkout-nonce=6c2f8a9e1d&_wp_http_referer=%2F%3Fwc-ajax%3Dupda"
    "te_order_review",
    "GET /wp-json/wc/v3/payments/deposits/overview-all?_locale=user HTTP/1.1\r\n" "Host: shop.example.com\r\n"
    FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nReferer: https://shop.example.com/wp-admin/admin.php?page=wc-admin&path=%2"
    "Fpayments%2Foverview\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000"
    "000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f1694"
    "7ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n" "\r\n",
    "POST /wp-json/wc/v3/payments/orders/4711/capture_authorization?_locale=user HTTP/1.1\r\n"
    "Host: shop.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/json\r\nContent-Length: 51\r\n\r\n"
    "{\"payment_intent_id\":\"pi_3PGk2LHq4Xz9aB7c0nB1vXyZ\"}",
    "POST /?wc-ajax=wcpay_create_payment_intent HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: wp_woocommerce_session_8f14e45fceea167a5a36dedd4bea2543=t_5c1e0b7a2d%7C%7C1715200000%7C%7C17"
    "15196400%7C%7C0b1a8e2f7c; woocommerce_items_in_cart=1; woocommerce_cart_hash=3e0a51c2b3f0a44c1a9b6d9"
    "c2f8e7d61\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 71\r\n\r\n"
    "wcpay-payment-method=pm_1PGk2LHq4Xz9aB7cD8eF0gH1&_ajax_nonce=5d1e9b3a7f",
    /* Ultimate Member: registration, login and a profile edit (form_id and user_login-N fields, no capabilities) */
    "POST /register/ HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Origin: https://blog.example.com\r\nReferer: https://blog.example.com/register/\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 254\r\n" "\r\n"
    "user_login-412=bob_writer&first_name-412=Bob&last_name-412=Writer&user_email-412=bob%40example.org&u"
    "ser_password-412=Tr4vel%21Notebook&confirm_user_password-412=Tr4vel%21Notebook&form_id=412&um_reques"
    "t=&_wpnonce=a1b2c3d4e5&_wp_http_referer=%2Fregister%2F",
    "POST /login/ HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://blog.example.com/login/\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 116\r\n\r\n"
    "username-411=bob_writer&user_password-411=Tr4vel%21Notebook&form_id=411&um_request=&_wpnonce=0f9e8d7"
    "c6b&rememberme=1",
    "POST /user/bob_writer/?um_action=edit HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://blog.example.com/user/bob_writer/?um_action=edit\r\n"
    FPA_WP_LOGGED_IN
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 251\r\n" "\r\n"
    "first_name-413=Bob&last_name-413=Writer&description-413=Travel+writer.+Coffee%2C+trains+%26+capabili"
    "ty+maturity+models.&user_url-413=https%3A%2F%2Fbobwrites.example.net%2F&form_id=413&um_request=&_wpn"
    "once=9a8b7c6d5e&profile_nonce=c4d3e2f1a0&user_id=57",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    FPA_WP_LOGGED_IN
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 125\r\n\r\n"
    "action=um_get_members&directory_id=b9238&page=1&search=travel&sorting=username&gmt_offset=2&post_ref"
    "ferer=88&nonce=7e6d5c4b3a",
    /* ProfilePress: the AJAX sign-up and an avatar upload from the account page */
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Referer: https://blog.example.com/signup/\r\nContent-Type: application/x-www-form-urlencoded; charse"
    "t=UTF-8\r\nContent-Length: 340\r\n\r\n"
    "action=pp_ajax_signup&data=reg_username%3Dcarol_m%26reg_email%3Dcarol%2540example.org%26reg_password"
    "%3DBlue-Heron-42%26reg_password2%3DBlue-Heron-42%26reg_first_name%3DCarol%26reg_last_name%3DMeyer%26"
    "signup_form_id%3D2%26pp_current_url%3Dhttps%253A%252F%252Fblog.example.com%252Fsignup%252F%26signup_"
    "referrer_page%3D%26_wpnonce%3D5f4e3d2c1b",
    "POST /my-account/edit-profile/ HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    FPA_WP_LOGGED_IN
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\n"
    "Content-Length: 796\r\n\r\n"
    "------WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\nContent-Disposition: form-data; name=\"eup_first_name\"\r"
    "\n\r\nCarol\r\n------WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\nContent-Disposition: form-data; name=\"eu"
    "p_website\"\r\n\r\nhttps://carol.example.net\r\n------WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\n"
    "Content-Disposition: form-data; name=\"reg_avatar\"; filename=\"avatar.png\"\r\n"
    "Content-Type: image/png\r\n\r\n\211PNG\r\n\032\n\001\001\001\rIHDR\001\001\002\200\001\001\001\340\010"
    "\006\001\001\0015\321\334\344\001\001\001\001IDATx\234\355\301\001\001\001\001IEND\256B`\202\r\n"
    "------WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\nContent-Disposition: form-data; name=\"eup_submit\"\r\n"
    "\r\nSave Changes\r\n------WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\n"
    "Content-Disposition: form-data; name=\"editprofile_form_id\"\r\n"
    "\r\n1\r\n------WebKitFormBoundaryq8Kd3LmN0pRs7TuV\r\nContent-Disposition: form-data; name=\"_wpnonce"
    "\"\r\n\r\nd2c3b4a5e6\r\n------WebKitFormBoundaryq8Kd3LmN0pRs7TuV--\r\n",
    /* Elementor and Essential Addons: a form widget submission, the login/register widget, a real password reset
     * with its key */
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Origin: https://blog.example.com\r\nReferer: https://blog.example.com/contact/\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 328\r\n\r\n"
    "post_id=22&form_id=5c1d2e3&referer_title=Contact&queried_id=22&form_fields%5Bname%5D=Dana+Roe&form_f"
    "ields%5Bemail%5D=dana%40example.org&form_fields%5Bmessage%5D=Hi%2C+do+you+ship+to+Canada%3F+Order+%2"
    "31042+%28two+items%29+%26+a+gift+card.&action=elementor_pro_forms_send_form&referrer=https%3A%2F%2Fb"
    "log.example.com%2Fcontact%2F",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Referer: https://blog.example.com/account/\r\nContent-Type: application/x-www-form-urlencoded; chars"
    "et=UTF-8\r\nContent-Length: 189\r\n\r\n"
    "action=eael-login-register-form&eael-register-nonce=4b3c2d1e0f&page_id=310&widget_id=7a8b9c0&email=e"
    "rin%40example.org&user_login=erin_k&password=Quiet-Maple-77&eael-register-submit=Register",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Referer: https://blog.example.com/account/?eael-resetpassword=1\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 241\r\n\r\n"
    "action=eael-login-register-form&eael-resetpassword-nonce=8e7d6c5b4a&page_id=310&widget_id=7a8b9c0&rp"
    "_key=Xk3pQ9vLm2Rt7Wz1aB4c&rp_login=erin_k&eael-pass1=New-Quiet-Maple-78&eael-pass2=New-Quiet-Maple-7"
    "8&eael-resetpassword-submit=Save+Password",
    "GET /wp-admin/admin.php?page=eael-settings HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    FPA_WP_LOGGED_IN "\r\n",
    /* Contact Form 7: feedback submissions with a PDF and a JPG attachment */
    "POST /wp-json/contact-form-7/v1/contact-forms/58/feedback HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_CHROME FPA_FETCH "Origin: https://blog.example.com\r\nReferer: https://blog.example.com/apply/\r\n"
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\n"
    "Content-Length: 1319\r\n\r\n"
    "------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\nContent-Disposition: form-data; name=\"_wpcf7\"\r\n"
    "\r\n58\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\nContent-Disposition: form-data; name=\"_wpcf7_"
    "version\"\r\n\r\n5.9.3\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\n"
    "Content-Disposition: form-data; name=\"_wpcf7_locale\"\r\n\r\n"
    "en_US\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\nContent-Disposition: form-data; name=\"_wpcf7_u"
    "nit_tag\"\r\n\r\nwpcf7-f58-p61-o1\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\n"
    "Content-Disposition: form-data; name=\"_wpcf7_container_post\"\r\n"
    "\r\n61\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\nContent-Disposition: form-data; name=\"your-na"
    "me\"\r\n\r\nFrank Ode\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\n"
    "Content-Disposition: form-data; name=\"your-email\"\r\n\r\nfrank@example.org\r\n"
    "------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\nContent-Disposition: form-data; name=\"your-message\"\r\n"
    "\r\nMy CV is attached (PDF). Available from June.\r\n------WebKitFormBoundary1aB2cD3eF4gH5iJ6\r\n"
    "Content-Disposition: form-data; name=\"cv\"; filename=\"Frank_Ode_CV_2024.pdf\"\r\n"
    "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n%\342\343\317\323\n"
    "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n"
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox ["
    "0 0 595 842] >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n\r\n"
    "------WebKitFormBoundary1aB2cD3eF4gH5iJ6--\r\n",
    "POST /wp-json/contact-form-7/v1/contact-forms/77/feedback HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_SAFARI FPA_FETCH
    "Referer: https://blog.example.com/report-damage/\r\nContent-Type: multipart/form-data; boundary=----"
    "WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\nContent-Length: 889\r\n" "\r\n"
    "------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\nContent-Disposition: form-data; name=\"_wpcf7\"\r\n"
    "\r\n77\r\n------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\nContent-Disposition: form-data; name=\"_wpcf7_"
    "version\"\r\n\r\n5.9.3\r\n------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\n"
    "Content-Disposition: form-data; name=\"_wpcf7_unit_tag\"\r\n\r\n"
    "wpcf7-f77-p80-o1\r\n------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\n"
    "Content-Disposition: form-data; name=\"your-name\"\r\n\r\nGina Park\r\n"
    "------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\nContent-Disposition: form-data; name=\"order-number\"\r\n"
    "\r\nWC-10488\r\n------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\nContent-Disposition: form-data; name=\"p"
    "hoto\"; filename=\"IMG_4471.JPG\"\r\nContent-Type: image/jpeg\r\n"
    "\r\n\377\330\377\340\001\020JFIF\001\001\001\001H\001H\001\001\377\333\001C\001\010\006\006\007\006\005"
    "\010\007\007\007\t\t\010\n\014\024\r\014\013\013\014\031\022\023\017\377\300\001\021\010\002X\003 \003"
    "\001\"\001\002\021\001\377\331\r\n------WebKitFormBoundaryZ9y8X7w6V5u4T3s2\r\n"
    "Content-Disposition: form-data; name=\"acceptance-terms\"\r\n"
    "\r\n1\r\n------WebKitFormBoundaryZ9y8X7w6V5u4T3s2--\r\n",
    "GET /wp-json/contact-form-7/v1/contact-forms/58/refill HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_CHROME
    FPA_FETCH "Referer: https://blog.example.com/apply/\r\n\r\n",
    /* wpDiscuz: a comment with an image attachment, a vote, loading more comments */
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Referer: https://blog.example.com/2024/05/spring-garden/\r\nCookie: comment_author_email=hal%40examp"
    "le.org\r\nContent-Type: multipart/form-data; boundary=----WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z\r\n"
    "Content-Length: 675\r\n\r\n"
    "------WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z\r\nContent-Disposition: form-data; name=\"action\"\r\n"
    "\r\nwmuUploadFiles\r\n------WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z\r\n"
    "Content-Disposition: form-data; name=\"wmu_nonce\"\r\n\r\n2b3c4d5e6f\r\n"
    "------WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z\r\nContent-Disposition: form-data; name=\"wmuAttachmentsDat"
    "a\"\r\n\r\n\r\n------WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z\r\nContent-Disposition: form-data; name=\"po"
    "stId\"\r\n\r\n902\r\n------WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z\r\n"
    "Content-Disposition: form-data; name=\"wmu_files[0]\"; filename=\"tomatoes.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n\r\n\377\330\377\340\001\020JFIF\001\001\001\001H\001H\001\001\377\333\001"
    "C\001\010\006\006\007\006\005\010\007\007\007\t\t\010\n\014\024\r\014\013\013\014\031\022\023\017\377"
    "\300\001\021\010\002X\003 \003\001\"\001\002\021\001\377\331\r\n"
    "------WebKitFormBoundaryPq1Rs2Tu3Vw4Xy5Z--\r\n",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Referer: https://blog.example.com/2024/05/spring-garden/\r\nContent-Type: application/x-www-form-url"
    "encoded; charset=UTF-8\r\nContent-Length: 218\r\n\r\n"
    "wc_comment=Great+post%21+Here+are+my+tomatoes%3B+they+were+planted+in+April.&wc_name=Hal&wc_email=ha"
    "l%40example.org&wmu_attachments=%7B%22images%22%3A%5B4471%5D%7D&wpdiscuz_unique_id=0_0&postId=902&ac"
    "tion=wpdAddComment",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 103\r\n\r\n"
    "action=wpdLoadMoreComments&lastParentId=3301&offset=1&postId=902&sorting=newest&wpdiscuzSelectSortin" "g=0",
    /* LayerSlider and Slider Revolution: admin pages and AJAX with the login cookie, a front-end popup */
    "GET /wp-admin/admin.php?page=layerslider&action=edit&id=3 HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_CHROME FPA_NAV
    FPA_WP_LOGGED_IN "\r\n",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    FPA_WP_LOGGED_IN
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 134\r\n\r\n"
    "action=ls_save_slider&id=3&sliderData=%7B%22properties%22%3A%7B%22title%22%3A%22Home%22%2C%22width%2"
    "2%3A1280%7D%7D&_wpnonce=6a5b4c3d2e",
    "GET /wp-admin/admin-ajax.php?action=ls_get_popup_markup&id=7 HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    FPA_CHROME FPA_XHR "Referer: https://blog.example.com/\r\n\r\n",
    "GET /wp-admin/admin.php?page=revslider&view=slide&id=12 HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_CHROME
    FPA_NAV FPA_WP_LOGGED_IN "\r\n",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    FPA_WP_LOGGED_IN
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 99\r\n\r\n"
    "action=revslider_ajax_action&client_action=get_slides_by_slider_id&nonce=1e2d3c4b5a&data%5Bid%5D=12",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    FPA_WP_LOGGED_IN
    "Content-Type: multipart/form-data; boundary=----WebKitFormBoundaryRv5Sl1d3rUpd4t3x\r\n"
    "Content-Length: 628\r\n\r\n"
    "------WebKitFormBoundaryRv5Sl1d3rUpd4t3x\r\nContent-Disposition: form-data; name=\"action\"\r\n"
    "\r\nrevslider_ajax_action\r\n------WebKitFormBoundaryRv5Sl1d3rUpd4t3x\r\n"
    "Content-Disposition: form-data; name=\"client_action\"\r\n\r\n"
    "update_plugin\r\n------WebKitFormBoundaryRv5Sl1d3rUpd4t3x\r\n"
    "Content-Disposition: form-data; name=\"nonce\"\r\n\r\n1e2d3c4b5a\r\n"
    "------WebKitFormBoundaryRv5Sl1d3rUpd4t3x\r\nContent-Disposition: form-data; name=\"update_file\"; fi"
    "lename=\"revslider-6.7.4.zip\"\r\nContent-Type: application/zip\r\n"
    "\r\nPK\003\004\024\001\010\010\010\001\214Z\242X\001\001\001\001\001\001\001\001\001\001\001\001\024"
    "\001\004\001META-INF/MANIFEST.MF\376\312\001\001\363M\314\313LK-.\321\rK-*\316\314\317\263R0\3243\340"
    "\345r.JM,IM\321u\252\004\t\230\350\031\304\033\r\n------WebKitFormBoundaryRv5Sl1d3rUpd4t3x--\r\n",
    /* WordPress REST API with a nonce, plugin installs from the admin, pingbacks between blogs, cache plugins'
     * cookies */
    "GET /wp-json/wp/v2/users/me?context=edit&_locale=user HTTP/1.1\r\n" "Host: blog.example.com\r\n" FPA_CHROME
    FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n" "\r\n",
    "GET /?rest_route=/wp/v2/users/me&_locale=user HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n" "\r\n",
    "POST /wp-json/wp/v2/posts/1234?_locale=user HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/json\r\nContent-Length: 208\r\n\r\n"
    "{\"id\":1234,\"title\":\"Spring garden\",\"content\":\"<!-- wp:paragraph --><p>Tomatoes, <strong>bas"
    "il</strong> and a <a href=\\\"https://example.org/seeds\\\">seed list</a>.</p><!-- /wp:paragraph -->"
    "\",\"status\":\"publish\"}",
    "POST /wp-json/wp/v2/plugins?_locale=user HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/json\r\nContent-Length: 50\r\n\r\n"
    "{\"slug\":\"gutenkit-blocks-addon\",\"status\":\"active\"}",
    "POST /wp-json/gutenkit/v1/install-active-plugin HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/json\r\nContent-Length: 75\r\n\r\n"
    "{\"plugin\":\"https://downloads.wordpress.org/plugin/popup-builder-block.zip\"}",
    "POST /wp-json/hc/v1/themehunk-import HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/json\r\nContent-Length: 248\r\n\r\n"
    "{\"params\":{\"templateType\":\"free\",\"plugin\":{\"woocommerce\":\"WooCommerce\"},\"allPlugins\":["
    "{\"woocommerce\":\"WooCommerce\"}],\"themeSlug\":\"open-shop\",\"proThemePlugin\":\"th-shop-mania\","
    "\"tmplFreePro\":\"free\",\"wpUrl\":\"https://blog.example.com\",\"id\":\"shop-main\"}}",
    "POST /xmlrpc.php HTTP/1.1\r\nHost: blog.example.com\r\n"
    "User-Agent: WordPress/6.5.3; https://other-blog.example.net\r\n"
    "Accept: */*\r\nContent-Type: text/xml\r\nContent-Length: 296\r\n" "\r\n"
    "<?xml version=\"1.0\"?>\n<methodCall><methodName>pingback.ping</methodName><params><param><value><st"
    "ring>https://other-blog.example.net/2024/05/garden-links/</string></value></param><param><value><str"
    "ing>https://blog.example.com/2024/05/spring-garden/</string></value></param></params></methodCall>\n",
    "GET /2024/05/spring-garden/ HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C1715000000%7CpTyGJMuHbEL31IeL2H"
    "PcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16947ccf25ec84d8dbc7; wp-set"
    "tings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000; wpfc-comment-author=%22Hal%22\r\n" "\r\n",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    FPA_WP_LOGGED_IN
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 160\r\n\r\n"
    "action=td_ajax_update_panel&wpnonce=3e4d5c6b7a&compiledCss=.td-header-wrap%7Bbackground-color%3A%231"
    "11%3B%7D%20.td-post-title%20a%3Ahover%7Bcolor%3A%234db2ec%7D",
    "POST /wp-json/tdw/save_css HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-WP-Nonce: 3f9a1c7e2b\r\nCookie: wordpress_logged_in_8f14e45fceea167a5a36dedd4bea2543=alice%7C17150"
    "00000%7CpTyGJMuHbEL31IeL2HPcHyGcFRl1SPnXNYvMIHa_2o7%7Ceb975729fae923d5a4fd12aabfe228f219e9cb0eb53f16"
    "947ccf25ec84d8dbc7; wp-settings-1=libraryContent%3Dbrowse; wp-settings-time-1=1714390000\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 95\r\n\r\n"
    "compiledCss=.tdi_42%7Bmargin-bottom%3A24px%3Bfont-family%3AVerdana%2Cserif%7D&_nonce=3e4d5c6b7a",
    "GET /wp-json/post-smtp/v1/get-logs?start=0&length=25 HTTP/1.1\r\n" "Host: blog.example.com\r\n"
    "User-Agent: Dart/3.3 (dart:io)\r\n"
    "fcm-token: eXc1Vd8hRkO4nM7pQ2sT9u:APA91bF3kL8mN2pQ5rS7tU9vW1xY3zA5bC7dE9fG1hI3jK5lM7nO9pQ1rS3tU5vW7x"
    "Y9zA1bC3dE5fG7hI9jK1lM3n\r\nauth-key: 5f2a9c4e7b1d8a3f6c0e9b2d5a8f1c4e\r\n" "\r\n",
    "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 157\r\n\r\n"
    "action=wpgdprc_process_action&security=8c7b6a5f4e&data=%7B%22type%22%3A%22access_request%22%2C%22ema"
    "il%22%3A%22ivy%40example.org%22%2C%22consent%22%3Atrue%7D",
    "GET /wp-admin/install.php?step=1&language=en_US HTTP/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://blog.example.com/wp-admin/setup-config.php?step=2\r\n" "\r\n",
    /* Zabbix: the sign-in form and API logins with a real password, host.get with a token, dashboards */
    "POST /zabbix/index.php HTTP/1.1\r\nHost: zabbix.example.com\r\n" FPA_FIREFOX FPA_NAV
    "Origin: https://zabbix.example.com\r\nReferer: https://zabbix.example.com/zabbix/index.php\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 68\r\n" "\r\n"
    "name=Admin&password=Gl4cier%21Monitor-2024&autologin=1&enter=Sign+in",
    "POST /api_jsonrpc.php HTTP/1.1\r\nHost: zabbix.example.com\r\n" "User-Agent: python-requests/2.31.0\r\n"
    "Accept: */*\r\nContent-Type: application/json-rpc\r\nContent-Length: 110\r\n" "\r\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"user.login\",\"params\":{\"username\":\"Admin\",\"password\":\"Gl4"
    "cier!Monitor-2024\"},\"id\":1}",
    "POST /zabbix/api_jsonrpc.php HTTP/1.1\r\nHost: zabbix.example.com\r\n" "User-Agent: Zabbix-Grafana/4.4.5\r\n"
    "Accept: application/json\r\nContent-Type: application/json-rpc\r\n" "Content-Length: 105\r\n\r\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"user.login\",\"params\":{\"user\":\"grafana\",\"password\":\"zabbi"
    "x-reader-7Qp\"},\"id\":1}",
    "POST /api_jsonrpc.php HTTP/1.1\r\nHost: zabbix.example.com\r\n" "User-Agent: python-requests/2.31.0\r\n"
    "Accept: */*\r\nAuthorization: Bearer 8d2f4c6a0b1e3f5a7c9d2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b3c5d7e9f1a2"
    "b\r\nContent-Type: application/json-rpc\r\nContent-Length: 146\r\n" "\r\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"host.get\",\"params\":{\"output\":[\"hostid\",\"host\"],\"selectIn"
    "terfaces\":[\"interfaceid\",\"ip\"],\"filter\":{\"status\":\"0\"}},\"id\":2}",
    "GET /zabbix/zabbix.php?action=dashboard.view&dashboardid=1 HTTP/1.1\r\n" "Host: zabbix.example.com\r\n"
    FPA_CHROME FPA_NAV
    "Cookie: zbx_session=eyJzZXNzaW9uaWQiOiI3ZDljMmY0YTZiOGUwYzFkM2U1ZjdhOWIyYzRkNmU4ZiIsInNpZ24iOiJhYmNk"
    "ZWYwMTIzNDU2Nzg5In0%3D\r\n\r\n",
    "GET /zabbix/index_sso.php HTTP/1.1\r\nHost: zabbix.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://zabbix.example.com/zabbix/index.php\r\n\r\n",
    /* Nagios XI: the UI, a banner acknowledgement, the RSS dashlet */
    "GET /nagiosxi/index.php?xiwindow=%2Fnagiosxi%2Fincludes%2Fcomponents%2Fxicore%2Fstatus.php%3Fshow%3D"
    "hosts HTTP/1.1\r\nHost: nagios.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: nagiosxi=h7a9mk2l4p6q8r0s1t3u5v7w9x\r\n\r\n",
    "POST /nagiosxi/admin/banner_message-ajaxhelper.php HTTP/1.1\r\n" "Host: nagios.example.com\r\n" FPA_CHROME
    FPA_XHR "Cookie: nagiosxi=h7a9mk2l4p6q8r0s1t3u5v7w9x\r\nContent-Type: application/x-www-form-urlencoded; char"
    "set=UTF-8\r\nContent-Length: 55\r\n\r\n" "action=acknowledge_banner_message&id=4&nsp=a8f3c1e9d2b7",
    "GET /nagiosxi/includes/dashlets/rss_dashlet/magpierss/scripts/magpie_slashbox.php?rss_url=https%3A%2"
    "F%2Fwww.nagios.com%2Ffeed%2F HTTP/1.1\r\nHost: nagios.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: nagiosxi=h7a9mk2l4p6q8r0s1t3u5v7w9x\r\n\r\n",
    /* ColdFusion administrator pages */
    "GET /CFIDE/administrator/index.cfm HTTP/1.1\r\nHost: cf.example.com\r\n" FPA_CHROME FPA_NAV "\r\n",
    "GET /CFIDE/administrator/enter.cfm?locale=en_US HTTP/1.1\r\nHost: cf.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: CFID=10452; CFTOKEN=8a1b2c3d4e5f6a7b-1A2B3C4D\r\n\r\n",
    "GET /CFIDE/administrator/settings/server_settings.cfm HTTP/1.1\r\n" "Host: cf.example.com\r\n" FPA_CHROME
    FPA_NAV "Cookie: CFID=10452; CFTOKEN=8a1b2c3d4e5f6a7b-1A2B3C4D; CFAUTHORIZATION_cfadmin=YWRtaW46NWY0ZGNjM2I1Y"
    "WE3NjVkNjFkODMyN2RlYjg4MmNmOTk6Y2ZhZG1pbg%3D%3D\r\n\r\n",
    /* QNAP Photo Station: albums, a slideshow, a video with its caption */
    "GET /photo/p/api/album.php?a=getAlbumList&t=myAlbum&s=0&c=50&sid=h6k2l9m3 HTTP/1.1\r\n"
    "Host: nas.example.com:8080\r\n" FPA_CHROME FPA_XHR "Cookie: QMS_SID=h6k2l9m3n4p5; NAS_USER=alice\r\n\r\n",
    "POST /photo/p/api/album.php HTTP/1.1\r\nHost: nas.example.com:8080\r\n" FPA_CHROME FPA_XHR
    "Cookie: QMS_SID=h6k2l9m3n4p5; NAS_USER=alice\r\nContent-Type: application/x-www-form-urlencoded; cha"
    "rset=UTF-8\r\nContent-Length: 56\r\n\r\n" "a=setAlbumCover&album=cJinsP&f=MTAxNQ%3D%3D&sid=h6k2l9m3",
    "GET /photo/slideshow.php?album=cJinsP&ac=3f8a1b2c HTTP/1.1\r\n" "Host: nas.example.com:8080\r\n" FPA_CHROME
    FPA_NAV "Cookie: QMS_SID=h6k2l9m3n4p5\r\n\r\n",
    "GET /photo/p/api/video.php?album=cJinsP&a=caption&ac=3f8a1b2c&filename=Holiday_2023.mp4 HTTP/1.1\r\n"
    "Host: nas.example.com:8080\r\n" FPA_CHROME FPA_XHR "Cookie: QMS_SID=h6k2l9m3n4p5\r\n\r\n",
    "GET /cgi-bin/authLogin.cgi?user=alice&plain_pwd=&serviceKey=1&sid=h6k2l9m3 HTTP/1.1\r\n"
    "Host: nas.example.com:8080\r\n" FPA_CHROME FPA_XHR "\r\n",
    /* Apache Spark UI (with doAs for a proxy user), Consul UI and agent registration with an HTTP check, Salt API */
    "GET /jobs/?doAs=alice HTTP/1.1\r\nHost: spark-master.example.com:4040\r\n" FPA_CHROME FPA_NAV
    "Referer: https://spark-master.example.com:4040/\r\n\r\n",
    "GET /stages/stage/?id=14&attempt=0&doAs=etl-svc HTTP/1.1\r\nHost: spark-master.example.com:4040\r\n"
    FPA_CHROME FPA_NAV "\r\n",
    "GET /ui/dc1/services/web/instances HTTP/1.1\r\nHost: consul.example.com:8500\r\n" FPA_CHROME FPA_NAV
    "Cookie: consul-ui-token=; CONSUL_LATEST_SUPPORTED_VERSION=1.18\r\n" "\r\n",
    "PUT /v1/agent/service/register HTTP/1.1\r\nHost: 127.0.0.1:8500\r\n" "User-Agent: Go-http-client/1.1\r\n"
    "X-Consul-Token: 6b1d7e9c-2f4a-4c8e-9a1b-3d5f7e9a1c2b\r\nContent-Type: application/json\r\n"
    "Content-Length: 218\r\n\r\n"
    "{\"ID\":\"web-1\",\"Name\":\"web\",\"Tags\":[\"v2\",\"primary\"],\"Address\":\"10.0.1.23\",\"Port\":"
    "8080,\"Check\":{\"HTTP\":\"http://10.0.1.23:8080/health\",\"Method\":\"GET\",\"Interval\":\"10s\",\""
    "Timeout\":\"2s\",\"DeregisterCriticalServiceAfter\":\"5m\"}}",
    "PUT /v1/agent/check/register HTTP/1.1\r\nHost: 127.0.0.1:8500\r\n" "User-Agent: Go-http-client/1.1\r\n"
    "X-Consul-Token: 6b1d7e9c-2f4a-4c8e-9a1b-3d5f7e9a1c2b\r\nContent-Type: application/json\r\n"
    "Content-Length: 133\r\n\r\n"
    "{\"ID\":\"mem-util\",\"Name\":\"Memory utilization\",\"Args\":[\"/usr/local/bin/check_mem.py\",\"-li"
    "mit\",\"256MB\"],\"Interval\":\"10s\",\"Timeout\":\"1s\"}",
    "POST /login HTTP/1.1\r\nHost: salt.example.com:8000\r\n" "User-Agent: python-requests/2.31.0\r\n"
    "Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n" "Content-Length: 51\r\n\r\n"
    "username=saltdev&password=Fj0rd-Cobalt-11&eauth=pam",
    "POST /run HTTP/1.1\r\nHost: salt.example.com:8000\r\n" "User-Agent: python-requests/2.31.0\r\n"
    "Accept: application/json\r\nContent-Type: application/json\r\n" "Content-Length: 115\r\n\r\n"
    "[{\"client\":\"local\",\"tgt\":\"web*\",\"fun\":\"test.ping\",\"username\":\"saltdev\",\"password\":"
    "\"Fj0rd-Cobalt-11\",\"eauth\":\"pam\"}]",
    "POST / HTTP/1.1\r\nHost: salt.example.com:8000\r\n" "User-Agent: curl/8.5.0\r\n"
    "Accept: application/x-yaml\r\nX-Auth-Token: 7b3e9f1c2a4d6e8f0a1b3c5d7e9f1a2b\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 41\r\n" "\r\n"
    "client=local&tgt=*&fun=cmd.run&arg=uptime",
    /* Sonatype Nexus Repository: the UI's extdirect calls (a content selector preview), search, a REST jar upload,
     * a group repository */
    "GET / HTTP/1.1\r\nHost: nexus.example.com:8081\r\n" FPA_CHROME FPA_NAV
    "Cookie: NXSESSIONID=4f2a6c8e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\r\n\r\n",
    "POST /service/extdirect HTTP/1.1\r\nHost: nexus.example.com:8081\r\n" FPA_CHROME FPA_XHR
    "NX-ANTI-CSRF-TOKEN: 0.6213451986723\r\nCookie: NX-ANTI-CSRF-TOKEN=0.6213451986723; NXSESSIONID=4f2a6"
    "c8e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\r\nContent-Type: application/json\r\n" "Content-Length: 119\r\n\r\n"
    "{\"action\":\"coreui_Browse\",\"method\":\"read\",\"data\":[{\"repositoryName\":\"maven-releases\",\""
    "node\":\"/\"}],\"type\":\"rpc\",\"tid\":7}",
    "POST /service/extdirect HTTP/1.1\r\nHost: nexus.example.com:8081\r\n" FPA_CHROME FPA_XHR
    "NX-ANTI-CSRF-TOKEN: 0.6213451986723\r\nCookie: NX-ANTI-CSRF-TOKEN=0.6213451986723; NXSESSIONID=4f2a6"
    "c8e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\r\nContent-Type: application/json\r\n" "Content-Length: 288\r\n\r\n"
    "{\"action\":\"coreui_Selector\",\"method\":\"previewContent\",\"data\":[{\"page\":1,\"start\":0,\"li"
    "mit\":50,\"filter\":[{\"property\":\"repository\",\"value\":\"*\"},{\"property\":\"expression\",\"va"
    "lue\":\"format == \\\"maven2\\\" and path =^ \\\"/com/example/\\\"\"},{\"property\":\"type\",\"value"
    "\":\"jexl\"}]}],\"type\":\"rpc\",\"tid\":12}",
    "POST /service/extdirect HTTP/1.1\r\nHost: nexus.example.com:8081\r\n" FPA_CHROME FPA_XHR
    "NX-ANTI-CSRF-TOKEN: 0.6213451986723\r\nCookie: NX-ANTI-CSRF-TOKEN=0.6213451986723; NXSESSIONID=4f2a6"
    "c8e-1b3d-4e5f-8a9b-0c1d2e3f4a5b\r\nContent-Type: application/json\r\n" "Content-Length: 333\r\n\r\n"
    "{\"action\":\"coreui_Component\",\"method\":\"previewAssets\",\"data\":[{\"page\":1,\"start\":0,\"li"
    "mit\":50,\"filter\":[{\"property\":\"repositoryName\",\"value\":\"maven-public\"},{\"property\":\"ex"
    "pression\",\"value\":\"coordinate.groupId == \\\"com.example\\\" && coordinate.artifactId =~ \\\"bil"
    "ling-.*\\\"\"},{\"property\":\"type\",\"value\":\"jexl\"}]}],\"type\":\"rpc\",\"tid\":13}",
    "GET /service/rest/v1/search?repository=maven-releases&maven.groupId=com.example&maven.artifactId=bil"
    "ling-core&sort=version HTTP/1.1\r\nHost: nexus.example.com:8081\r\n" "User-Agent: curl/8.5.0\r\n"
    "Accept: application/json\r\nAuthorization: Basic Y2ktYm90OlQ0bmdlcmluZS1Ecm9uZS05\r\n" "\r\n",
    "POST /service/rest/v1/components?repository=maven-releases HTTP/1.1\r\n" "Host: nexus.example.com:8081\r\n"
    "User-Agent: curl/8.5.0\r\n"
    "Accept: application/json\r\nAuthorization: Basic Y2ktYm90OlQ0bmdlcmluZS1Ecm9uZS05\r\n"
    "Content-Type: multipart/form-data; boundary=------------------------b7c1d2e3f4a5b6c7\r\n"
    "Content-Length: 772\r\n\r\n"
    "--------------------------b7c1d2e3f4a5b6c7\r\nContent-Disposition: form-data; name=\"maven2.groupId\""
    "\r\n\r\ncom.example\r\n--------------------------b7c1d2e3f4a5b6c7\r\n"
    "Content-Disposition: form-data; name=\"maven2.artifactId\"\r\n"
    "\r\nbilling-core\r\n--------------------------b7c1d2e3f4a5b6c7\r\n"
    "Content-Disposition: form-data; name=\"maven2.version\"\r\n\r\n"
    "2.4.1\r\n--------------------------b7c1d2e3f4a5b6c7\r\nContent-Disposition: form-data; name=\"maven2"
    ".asset1\"; filename=\"billing-core-2.4.1.jar\"\r\nContent-Type: application/java-archive\r\n"
    "\r\nPK\003\004\024\001\010\010\010\001\214Z\242X\001\001\001\001\001\001\001\001\001\001\001\001\024"
    "\001\004\001META-INF/MANIFEST.MF\376\312\001\001\363M\314\313LK-.\321\rK-*\316\314\317\263R0\3243\340"
    "\345r.JM,IM\321u\252\004\t\230\350\031\304\033\r\n--------------------------b7c1d2e3f4a5b6c7\r\n"
    "Content-Disposition: form-data; name=\"maven2.asset1.extension\"\r\n"
    "\r\njar\r\n--------------------------b7c1d2e3f4a5b6c7--\r\n",
    "POST /service/rest/v1/repositories/maven/group HTTP/1.1\r\nHost: nexus.example.com:8081\r\n"
    "User-Agent: terraform-provider-nexus/2.2.0\r\n"
    "Authorization: Basic dGVycmFmb3JtLXN2YzpOM3h1cy1SZWxlYXNlLUtleS0yMDI0\r\n"
    "Content-Type: application/json\r\nContent-Length: 184\r\n\r\n"
    "{\"name\":\"maven-all\",\"online\":true,\"storage\":{\"blobStoreName\":\"default\",\"strictContentTy"
    "peValidation\":true},\"group\":{\"memberNames\":[\"maven-releases\",\"maven-snapshots\",\"maven-cent"
    "ral\"]}}",
    "PUT /repository/maven-releases/com/example/billing-core/2.4.1/billing-core-2.4.1.pom HTTP/1.1\r\n"
    "Host: nexus.example.com:8081\r\n" "User-Agent: Apache-Maven/3.9.6 (Java 17.0.10; Linux 6.5.0)\r\n"
    "Authorization: Basic Y2ktYm90OlQ0bmdlcmluZS1Ecm9uZS05\r\nContent-Type: text/xml\r\n"
    "Content-Length: 184\r\n\r\n"
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project><modelVersion>4.0.0</modelVersion><groupId>com."
    "example</groupId><artifactId>billing-core</artifactId><version>2.4.1</version></project>\n",
    /* JFrog Artifactory behind a reverse proxy: UI login, repository listing */
    "POST /ui/api/v1/ui/auth/login?_spring_security_remember_me=false HTTP/1.1\r\n"
    "Host: artifactory.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-Requested-With: XMLHttpRequest\r\nX-Forwarded-For: 198.51.100.23\r\n"
    "X-Forwarded-Proto: https\r\nContent-Type: application/json\r\n" "Content-Length: 60\r\n\r\n"
    "{\"user\":\"alice\",\"password\":\"Artif4ct-Maple!\",\"type\":\"login\"}",
    "GET /artifactory/api/repositories?type=local HTTP/1.1\r\nHost: artifactory.example.com\r\n"
    "User-Agent: JFrog-CLI/2.56.1\r\n"
    "Authorization: Bearer eyJ2ZXIiOiIyIiwidHlwIjoiSldUIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJjaS1ib3QifQ.c2ln"
    "bmF0dXJl\r\nX-Forwarded-For: 10.0.4.17\r\n\r\n",
    /* Harbor: project creation with a session, user self-registration (has_admin_role false) */
    "POST /api/v2.0/projects HTTP/1.1\r\nHost: harbor.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-Harbor-CSRF-Token: Qm9vdHN0cmFwLUNzcmYtVG9rZW4tMjAyNA==\r\n"
    "Cookie: sid=4b1e6f9a2c3d5e7f8a9b0c1d2e3f4a5b; _gorilla_csrf=MTcxNTAwMDAwMHxJa1J\r\n"
    "Content-Type: application/json\r\nContent-Length: 94\r\n\r\n"
    "{\"project_name\":\"billing\",\"metadata\":{\"public\":\"false\"},\"storage_limit\":-1,\"registry_id"
    "\":null}",
    "POST /api/v2.0/users HTTP/1.1\r\nHost: harbor.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-Harbor-CSRF-Token: Qm9vdHN0cmFwLUNzcmYtVG9rZW4tMjAyNA==\r\n"
    "Cookie: _gorilla_csrf=MTcxNTAwMDAwMHxJa1J\r\nContent-Type: application/json\r\n" "Content-Length: 134\r\n\r\n"
    "{\"username\":\"jdoe\",\"email\":\"jdoe@example.org\",\"realname\":\"Jane Doe\",\"password\":\"H4rbo"
    "r-Reg1stry!\",\"comment\":\"\",\"has_admin_role\":false}",
    "GET /harbor/projects/3/repositories HTTP/1.1\r\nHost: harbor.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: sid=4b1e6f9a2c3d5e7f8a9b0c1d2e3f4a5b\r\n\r\n",
    /* SonarQube with a session; Rocket.Chat method.call with ordinary params (EJSON $date) */
    "GET /api/settings/values?component=com.example%3Abilling HTTP/1.1\r\n" "Host: sonar.example.com\r\n"
    FPA_CHROME FPA_FETCH
    "Cookie: XSRF-TOKEN=k4b9s1h3qv0d8n2m; JWT-SESSION=eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJBWTQifQ.c2ln\r\n" "\r\n",
    "GET /project/issues?id=com.example%3Abilling&resolved=false&types=BUG HTTP/1.1\r\n"
    "Host: sonar.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: XSRF-TOKEN=k4b9s1h3qv0d8n2m; JWT-SESSION=eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJBWTQifQ.c2ln\r\n" "\r\n",
    "POST /api/v1/method.call/loadHistory HTTP/1.1\r\nHost: chat.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-User-Id: aobEdbYhXfu5hkeqG\r\nX-Auth-Token: 9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq\r\n"
    "Content-Type: application/json\r\nContent-Length: 155\r\n\r\n"
    "{\"message\":\"{\\\"msg\\\":\\\"method\\\",\\\"id\\\":\\\"31\\\",\\\"method\\\":\\\"loadHistory\\\","
    "\\\"params\\\":[\\\"GENERAL\\\",{\\\"$date\\\":1715000000000},50,{\\\"$date\\\":1714990000000}]}\"}",
    "POST /api/v1/method.call/sendMessage HTTP/1.1\r\nHost: chat.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-User-Id: aobEdbYhXfu5hkeqG\r\nX-Auth-Token: 9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq\r\n"
    "Content-Type: application/json\r\nContent-Length: 204\r\n\r\n"
    "{\"message\":\"{\\\"msg\\\":\\\"method\\\",\\\"id\\\":\\\"32\\\",\\\"method\\\":\\\"sendMessage\\\","
    "\\\"params\\\":[{\\\"_id\\\":\\\"kN3x8\\\",\\\"rid\\\":\\\"GENERAL\\\",\\\"msg\\\":\\\"Deploy is don"
    "e; $ne and $regex are Mongo operators, not ours :)\\\"}]}\"}",
    "POST /api/v1/method.callAnon/getPasswordPolicy HTTP/1.1\r\nHost: chat.example.com\r\n" FPA_CHROME FPA_FETCH
    "Content-Type: application/json\r\nContent-Length: 150\r\n\r\n"
    "{\"message\":\"{\\\"msg\\\":\\\"method\\\",\\\"id\\\":\\\"3\\\",\\\"method\\\":\\\"getPasswordPolicy"
    "\\\",\\\"params\\\":[{\\\"token\\\":\\\"Jc9pT2x_Vf7Kq1mN4rB8sD3wL6yH0aZ5eU9iO2gC\\\"}]}\"}",
    /* Jenkins: pipeline pages, the pipeline editor's script check, the CLI over HTTP (download side) */
    "GET /job/billing/job/main/lastBuild/console HTTP/1.1\r\nHost: jenkins.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID.3f1a2b4c=node01x8k3m2p9q4r5s.node0; screenResolution=1920x1080\r\n" "\r\n",
    "GET /job/billing/job/main/12/pipeline-graph/ HTTP/1.1\r\nHost: jenkins.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID.3f1a2b4c=node01x8k3m2p9q4r5s.node0\r\n\r\n",
    "POST /job/billing/descriptorByName/org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition/checkScriptC"
    "ompile HTTP/1.1\r\nHost: jenkins.example.com\r\n" FPA_CHROME FPA_XHR
    "Jenkins-Crumb: 5c8e2a1f9b3d7c4e6a0b2d8f1e3c5a7b\r\nCookie: JSESSIONID.3f1a2b4c=node01x8k3m2p9q4r5s.n"
    "ode0\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 304\r\n\r\n"
    "value=pipeline+%7B%0A++agent+any%0A++stages+%7B%0A++++stage%28%27Build%27%29+%7B%0A++++++steps+%7B%0"
    "A++++++++sh+%27.%2Fgradlew+clean+build+-x+test%27%0A++++++%7D%0A++++%7D%0A++++stage%28%27Test%27%29+"
    "%7B%0A++++++steps+%7B+junit+%27build%2Ftest-results%2F%2A%2A%2F%2A.xml%27+%7D%0A++++%7D%0A++%7D%0A%7" "D%0A",
    "POST /job/billing/descriptorByName/org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition/checkScript "
    "HTTP/1.1\r\nHost: jenkins.example.com\r\n" FPA_CHROME FPA_XHR
    "Jenkins-Crumb: 5c8e2a1f9b3d7c4e6a0b2d8f1e3c5a7b\r\nCookie: JSESSIONID.3f1a2b4c=node01x8k3m2p9q4r5s.n"
    "ode0\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 181\r\n\r\n"
    "value=node+%7B%0A++checkout+scm%0A++def+v+%3D+readFile%28%27VERSION%27%29.trim%28%29%0A++sh+%22docke"
    "r+build+-t+registry.example.com%2Fbilling%3A%24%7Bv%7D+.%22%0A%7D%0A&sandbox=true",
    "POST /cli?remoting=false HTTP/1.1\r\nHost: jenkins.example.com\r\n" "User-Agent: Java/17.0.10\r\n"
    "Session: 8d2b6f3a-1c4e-4a9b-b7d5-2e0f9c8a6b41\r\nSide: download\r\n"
    "Authorization: Basic YWxpY2U6MTE0ZjNhYzY4ZTdmYmE5YjFjNWQ3ZTlmMmE0YjZjOGQ=\r\n" "Content-Length: 0\r\n\r\n",
    /* H2 console: a login to a normal JDBC URL (INIT running a local schema script), the console after login */
    "POST /h2-console/login.do?jsessionid=0a1b2c3d4e5f67788990aabbccddeeff HTTP/1.1\r\n"
    "Host: app.example.com:8080\r\n" FPA_CHROME FPA_NAV
    "Referer: https://app.example.com:8080/h2-console/login.jsp?jsessionid=0a1b2c3d4e5f67788990aabbccddee"
    "ff\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 171\r\n" "\r\n"
    "language=en&setting=Generic+H2+%28Embedded%29&name=Generic+H2+%28Embedded%29&driver=org.h2.Driver&ur"
    "l=jdbc%3Ah2%3Afile%3A.%2Fdata%2Fbilling&user=sa&password=L0cal-Dev-Only",
    "POST /h2-console/login.do?jsessionid=0a1b2c3d4e5f67788990aabbccddeeff HTTP/1.1\r\n"
    "Host: app.example.com:8080\r\n" FPA_CHROME FPA_NAV
    "Referer: https://app.example.com:8080/h2-console/login.jsp?jsessionid=0a1b2c3d4e5f67788990aabbccddee"
    "ff\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 244\r\n" "\r\n"
    "language=en&setting=Generic+H2+%28Embedded%29&name=Generic+H2+%28Embedded%29&driver=org.h2.Driver&ur"
    "l=jdbc%3Ah2%3Amem%3Atestdb%3BINIT%3DRUNSCRIPT+FROM+%27classpath%3Aschema.sql%27%5C%3BRUNSCRIPT+FROM+"
    "%27classpath%3Adata.sql%27&user=sa&password=",
    "GET /h2-console/login.jsp?jsessionid=0a1b2c3d4e5f67788990aabbccddeeff HTTP/1.1\r\n"
    "Host: app.example.com:8080\r\n" FPA_CHROME FPA_NAV "Referer: https://app.example.com:8080/h2-console/\r\n\r\n",
    /* Spring Boot actuator and Jolokia with credentials, Portainer UI, Hystrix dashboard */
    "GET /actuator/health HTTP/1.1\r\nHost: app.example.com:8081\r\n" "User-Agent: Prometheus/2.51.2\r\n"
    "Accept: application/json\r\nAuthorization: Basic bW9uaXRvcjpTMHVuZC1CcmlkZ2UtOTk=\r\n" "\r\n",
    "GET /actuator/info HTTP/1.1\r\nHost: app.example.com:8081\r\n" "User-Agent: curl/8.5.0\r\n"
    "Accept: application/json\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcHMifQ.c2lnbmF0dX"
    "Jl\r\n\r\n",
    "POST /actuator/loggers/com.example.billing HTTP/1.1\r\nHost: app.example.com:8081\r\n"
    "User-Agent: curl/8.5.0\r\n"
    "Authorization: Basic b3BzOkxvZy1MZXZlbC1GaXgtMjAyNA==\r\nContent-Type: application/json\r\n"
    "Content-Length: 27\r\n\r\n" "{\"configuredLevel\":\"DEBUG\"}",
    "GET /jolokia/read/java.lang:type=Memory/HeapMemoryUsage HTTP/1.1\r\n" "Host: app.example.com:8778\r\n"
    "User-Agent: Telegraf/1.30.2 Go/1.22.2\r\n" "Authorization: Basic am9sb2tpYTpKMGwwa2lhLVJlYWQtT25seQ==\r\n"
    "\r\n",
    "POST /jolokia/ HTTP/1.1\r\nHost: app.example.com:8778\r\n" "User-Agent: hawtio/4.0\r\n" FPA_FETCH
    "Authorization: Basic am9sb2tpYTpKMGwwa2lhLVJlYWQtT25seQ==\r\n"
    "Content-Type: application/json\r\nContent-Length: 187\r\n\r\n"
    "[{\"type\":\"read\",\"mbean\":\"java.lang:type=Threading\",\"attribute\":\"ThreadCount\"},{\"type\":"
    "\"read\",\"mbean\":\"Catalina:type=Manager,context=/billing,host=localhost\",\"attribute\":\"activeS"
    "essions\"}]",
    "GET /api/users/admin/check HTTP/1.1\r\nHost: portainer.example.com:9443\r\n" FPA_CHROME FPA_FETCH
    "Referer: https://portainer.example.com:9443/\r\n\r\n",
    "GET /api/endpoints?limit=10&start=0&search=&types=1&types=2 HTTP/1.1\r\n"
    "Host: portainer.example.com:9443\r\n" FPA_CHROME FPA_FETCH
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.c2lnbmF0dXJl\r\n"
    "Referer: https://portainer.example.com:9443/\r\n\r\n",
    "GET /hystrix/proxy.stream?origin=http%3A%2F%2Fbilling.svc%3A8080%2Factuator%2Fhystrix.stream HTTP/1."
    "1\r\nHost: dash.example.com:7979\r\n" FPA_CHROME
    "Accept: text/event-stream\r\nReferer: https://dash.example.com:7979/hystrix/monitor\r\n" "\r\n",
    /* Seeyon OA, Weaver e-cology, Yonyou NC, RuoYi, JimuReport: ordinary use */
    "GET /seeyon/main.do?method=main HTTP/1.1\r\nHost: oa.example.cn\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=8B1E2C3D4F5A6B7C8D9E0F1A2B3C4D5E; loginPageURL=\r\n" "\r\n",
    "POST /seeyon/main.do?method=login HTTP/1.1\r\nHost: oa.example.cn\r\n" FPA_CHROME FPA_NAV
    "Referer: https://oa.example.cn/seeyon/index.jsp\r\nContent-Type: application/x-www-form-urlencoded\r"
    "\nContent-Length: 205\r\n\r\n"
    "authorization=&login.timezone=GMT%2B8%3A00&province=&city=&rectangle=&login_username=zhangwei&login_"
    "password=Qiu-Shui-2024&login_validatePwdStrength=4&random=&fontSize=12&screenWidth=1920&screenHeight" "=1080",
    "GET /wui/index.html#/main/portal/portal-1-1 HTTP/1.1\r\nHost: oa.example.cn\r\n" FPA_CHROME FPA_NAV
    "Cookie: ecology_JSessionid=aaaXk2m9P4vQ; loginidweaver=zhangwei; languageidweaver=7\r\n" "\r\n",
    "POST /api/hrm/login/checkLogin HTTP/1.1\r\nHost: oa.example.cn\r\n" FPA_CHROME FPA_XHR
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 66\r\n\r\n"
    "loginid=zhangwei&userpassword=Qiu-Shui-2024&logintype=1&isie=false",
    "GET /js/hrm/getdata.jsp?cmd=getSelectAllId&sql=select%20id%20from%20HrmResource%20where%20department"
    "id%3D12%20and%20status%3D1 HTTP/1.1\r\nHost: oa.example.cn\r\n" FPA_CHROME FPA_XHR
    "Cookie: ecology_JSessionid=aaaXk2m9P4vQ\r\n\r\n",
    "GET /portal/index.jsp HTTP/1.1\r\nHost: nc.example.cn\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7A.server\r\n" "\r\n",
    "GET /common/download/resource?resource=%2Fprofile%2Fupload%2F2024%2F05%2F02%2Fquarterly_report_20240"
    "502142310A001.pdf HTTP/1.1\r\nHost: ruoyi.example.cn\r\n" FPA_CHROME FPA_NAV
    "Cookie: JSESSIONID=a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d\r\n\r\n",
    "GET /prod-api/common/download?fileName=1715000000000%E7%94%A8%E6%88%B7%E6%95%B0%E6%8D%AE.xlsx&delete"
    "=true HTTP/1.1\r\nHost: ruoyi.example.cn\r\n" FPA_CHROME FPA_FETCH
    "Authorization: Bearer eyJhbGciOiJIUzUxMiJ9.eyJsb2dpbl91c2VyX2tleSI6IjEyMyJ9.c2ln\r\n" "\r\n",
    "POST /jmreport/queryFieldBySql HTTP/1.1\r\nHost: report.example.cn\r\n" FPA_CHROME FPA_FETCH
    "X-Access-Token: eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6ImFkbWluIn0.c2ln\r\n"
    "Content-Type: application/json;charset=UTF-8\r\nContent-Length: 152\r\n" "\r\n"
    "{\"sql\":\"select id, order_no, customer_name, amount, create_time from biz_order where create_time "
    ">= '2024-01-01'\",\"dbSource\":\"1715000000000\",\"type\":\"0\"}",
    "POST /jmreport/queryFieldBySql HTTP/1.1\r\nHost: report.example.cn\r\n" FPA_CHROME FPA_FETCH
    "X-Access-Token: eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6ImFkbWluIn0.c2ln\r\n"
    "Content-Type: application/json;charset=UTF-8\r\nContent-Length: 165\r\n" "\r\n"
    "{\"sql\":\"select name, dept, salary from demo where 1=1 <#if isNotEmpty(name)> and name = '${name}'"
    " </#if> order by salary desc\",\"dbSource\":\"1715000000000\",\"type\":\"0\"}",
    /* JSON APIs whose bodies carry @type: JSON-LD (schema.org), Jackson polymorphic type ids */
    "POST /api/products HTTP/1.1\r\nHost: shop.example.com\r\n" FPA_CHROME FPA_FETCH
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZW8ifQ.c2ln\r\n"
    "Content-Type: application/ld+json\r\nContent-Length: 226\r\n\r\n"
    "{\"@context\":\"https://schema.org\",\"@type\":\"Product\",\"name\":\"Trail shoe\",\"url\":\"https:/"
    "/shop.example.com/p/trail-shoe\",\"offers\":{\"@type\":\"Offer\",\"price\":\"89.00\",\"priceCurrency"
    "\":\"EUR\",\"availability\":\"https://schema.org/InStock\"}}",
    "POST /api/pets HTTP/1.1\r\nHost: api.example.com\r\n" "User-Agent: okhttp/4.12.0\r\n"
    "Accept: application/json\r\nContent-Type: application/json\r\n" "Content-Length: 83\r\n\r\n"
    "{\"@type\":\"Dog\",\"name\":\"Rex\",\"barkVolume\":7,\"owner\":{\"@type\":\"Person\",\"name\":\"Ann\"" "}}",
    "POST /api/events HTTP/1.1\r\nHost: api.example.com\r\n" "User-Agent: okhttp/4.12.0\r\n"
    "Content-Type: application/json\r\nContent-Length: 137\r\n\r\n"
    "[{\"@type\":\"com.example.events.OrderPlaced\",\"orderId\":\"A-1042\",\"at\":\"2024-05-06T10:00:00Z\""
    ",\"callback\":\"https://hooks.example.com/orders\"}]",
    "POST /graph HTTP/1.1\r\nHost: kg.example.org\r\n" "User-Agent: python-requests/2.31.0\r\n"
    "Content-Type: application/ld+json\r\nContent-Length: 169\r\n\r\n"
    "{\"@context\":{\"@vocab\":\"http://schema.org/\"},\"@id\":\"urn:isbn:9780141439600\",\"@type\":\"Boo"
    "k\",\"name\":\"A Tale of Two Cities\",\"sameAs\":\"https://www.wikidata.org/wiki/Q208931\"}",
    /* Apache Shiro sites: a returning browser user's rememberMe cookie (a real principal, some 350 characters) */
    "GET /dashboard HTTP/1.1\r\nHost: crm.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: rememberMe=KXK7BE2W3yhxugNMld4ncLkCS5TdJm+4AUqT3CVutwBJktskbbb/SJHaI2y1/keQ2SJrtP1Gj9gharP8R"
    "Y7XIGmy+0SN1h9osfpDjNUeZ7D5QovUHWav+EGK0xxlrvdAidIbZK32P4jRGmOs9T6H0Bliq/Q9hs8YYarzPIXOF2Cp8juEzRZfq"
    "PE6g8wVXqfwOYLLFF2m7ziByhNcpe43gMkSW6TtNn/IEVqj7DV+xxBZous0fcYPWKHqM3zFDleg6TJ7xA1Wn+gxesMMVZ7nMHnCC"
    "1Sd5i94wQpTnOUud8AJUpvkLXa/CFGa4yx1vgdQmeIrdL0GT5jhKnO8BU6X4ClyuwRNlt8ocboDTJXeJ3A=; JSESSIONID=F3A1"
    "B2C4D5E6F708192A3B4C5D6E7F80\r\n\r\n",
    "GET /index HTTP/1.1\r\nHost: crm.example.com\r\n" FPA_SAFARI FPA_NAV
    "Referer: https://crm.example.com/login\r\nCookie: JSESSIONID=F3A1B2C4D5E6F708192A3B4C5D6E7F80; remem"
    "berMe=deleteMe\r\n\r\n",
    /* phpMyAdmin, Adminer, SugarCRM, MantisBT, cPanel, Drupal REST, a PHPMailer contact form */
    "GET /phpmyadmin/index.php?route=/sql&db=shop&table=orders&pos=0 HTTP/1.1\r\n" "Host: db.example.com\r\n"
    FPA_CHROME FPA_NAV "Cookie: pmaUser-1=Z0N1c3RvbVNlc3Npb25WYWx1ZQ%3D%3D; phpMyAdmin=9a8b7c6d5e4f3a2b1c0d\r\n"
    "\r\n",
    "POST /phpmyadmin/index.php?route=/import HTTP/1.1\r\nHost: db.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: pmaUser-1=Z0N1c3RvbVNlc3Npb25WYWx1ZQ%3D%3D; phpMyAdmin=9a8b7c6d5e4f3a2b1c0d\r\n"
    "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n" "Content-Length: 168\r\n\r\n"
    "db=shop&table=orders&sql_query=SELECT+id%2C+status%2C+total+FROM+orders+WHERE+status+%3D+%27paid%27+"
    "ORDER+BY+created_at+DESC+LIMIT+25&ajax_request=true&token=4f3e2d1c0b",
    "POST /adminer.php HTTP/1.1\r\nHost: db.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://db.example.com/adminer.php\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 153\r\n\r\n"
    "auth%5Bdriver%5D=server&auth%5Bserver%5D=localhost&auth%5Busername%5D=shop_app&auth%5Bpassword%5D=Wr"
    "1te-Only-Sh0p&auth%5Bdb%5D=shop&auth%5Bpermanent%5D=1",
    "GET /adminer.php?server=localhost&username=shop_app&db=shop&select=orders&where%5B0%5D%5Bcol%5D=stat"
    "us&where%5B0%5D%5Bop%5D=%3D&where%5B0%5D%5Bval%5D=paid HTTP/1.1\r\n" "Host: db.example.com\r\n" FPA_CHROME
    FPA_NAV "Cookie: adminer_sid=m3k9q2v8; adminer_key=4b2c9e7f1a3d\r\n\r\n",
    "POST /index.php HTTP/1.1\r\nHost: crm.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: PHPSESSID=k2l4m6n8p0q2r4s6t8v0; ck_login_id_20=1\r\nContent-Type: multipart/form-data; bound"
    "ary=----WebKitFormBoundarySuGaRtMpL8x2\r\nContent-Length: 536\r\n" "\r\n"
    "------WebKitFormBoundarySuGaRtMpL8x2\r\nContent-Disposition: form-data; name=\"module\"\r\n"
    "\r\nEmailTemplates\r\n------WebKitFormBoundarySuGaRtMpL8x2\r\n"
    "Content-Disposition: form-data; name=\"action\"\r\n\r\nAttachFiles\r\n"
    "------WebKitFormBoundarySuGaRtMpL8x2\r\nContent-Disposition: form-data; name=\"to_pdf\"\r\n"
    "\r\n1\r\n------WebKitFormBoundarySuGaRtMpL8x2\r\nContent-Disposition: form-data; name=\"file\"; file"
    "name=\"newsletter-header.png\"\r\nContent-Type: image/png\r\n"
    "\r\n\211PNG\r\n\032\n\001\001\001\rIHDR\001\001\002\200\001\001\001\340\010\006\001\001\0015\321\334"
    "\344\001\001\001\001IDATx\234\355\301\001\001\001\001IEND\256B`\202\r\n"
    "------WebKitFormBoundarySuGaRtMpL8x2--\r\n",
    "POST /index.php HTTP/1.1\r\nHost: crm.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: PHPSESSID=k2l4m6n8p0q2r4s6t8v0; ck_login_id_20=1\r\nContent-Type: multipart/form-data; bound"
    "ary=----WebKitFormBoundarySuGaRtMpL8x3\r\nContent-Length: 513\r\n" "\r\n"
    "------WebKitFormBoundarySuGaRtMpL8x3\r\nContent-Disposition: form-data; name=\"module\"\r\n"
    "\r\nEmailTemplates\r\n------WebKitFormBoundarySuGaRtMpL8x3\r\n"
    "Content-Disposition: form-data; name=\"action\"\r\n\r\nAttachFiles\r\n"
    "------WebKitFormBoundarySuGaRtMpL8x3\r\nContent-Disposition: form-data; name=\"to_pdf\"\r\n"
    "\r\n1\r\n------WebKitFormBoundarySuGaRtMpL8x3\r\nContent-Disposition: form-data; name=\"file\"; file"
    "name=\"opening-hours.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    "Mon-Fri 9:00-17:30\r\nSat 10:00-14:00\r\n\r\n------WebKitFormBoundarySuGaRtMpL8x3--\r\n",
    "GET /verify.php?id=23&confirm_hash=9jV0TzQmG8Yc-1xL4RpAe7WnKb2sD6fH3uMiOqZ5vN0 HTTP/1.1\r\n"
    "Host: bugs.example.com\r\n" FPA_FIREFOX FPA_NAV "\r\n",
    "GET /view_all_bug_page.php?filter=57&page_number=2 HTTP/1.1\r\n" "Host: bugs.example.com\r\n" FPA_CHROME
    FPA_NAV "Cookie: MANTIS_STRING_COOKIE=d9f8e7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0\r\n"
    "\r\n",
    "GET /cpsess8394720156/frontend/jupiter/index.html HTTP/1.1\r\n" "Host: host.example.com:2083\r\n" FPA_CHROME
    FPA_NAV "Cookie: cpsession=alice%3aJ8kq2LmN4pR6sT8v%2c1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e\r\n" "\r\n",
    "GET /cpsess8394720156/execute/Email/list_pops?api.sort=1&api.sort_column=email HTTP/1.1\r\n"
    "Host: host.example.com:2083\r\n" FPA_CHROME FPA_XHR
    "Cookie: cpsession=alice%3aJ8kq2LmN4pR6sT8v%2c1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e\r\n" "\r\n",
    "POST /cpanelwebcall/gkzmvcnyxhbwudlsofrtqpjaei HTTP/1.1\r\nHost: host.example.com:2083\r\n"
    "User-Agent: cPanel-webcall/1.0\r\n" "Content-Length: 0\r\n\r\n",
    "POST /node?_format=hal_json HTTP/1.1\r\nHost: cms.example.org\r\n" "User-Agent: GuzzleHttp/7\r\n"
    "Accept: application/hal+json\r\nX-CSRF-Token: bV8tQ2xR4zP6nM0kJ9hG7fD5sA3\r\n"
    "Authorization: Basic ZWRpdG9yOkRydXAtNGwtRWRpdG9y\r\nContent-Type: application/hal+json\r\n"
    "Content-Length: 233\r\n\r\n"
    "{\"_links\":{\"type\":{\"href\":\"https://cms.example.org/rest/type/node/article\"}},\"title\":[{\"v"
    "alue\":\"Open day\"}],\"field_link\":[{\"uri\":\"https://events.example.org/open-day\",\"title\":\"R"
    "egister\",\"options\":{\"attributes\":{\"target\":\"_blank\"}}}]}",
    "PATCH /node/42?_format=hal_json HTTP/1.1\r\nHost: cms.example.org\r\n" "User-Agent: GuzzleHttp/7\r\n"
    "Accept: application/hal+json\r\nX-CSRF-Token: bV8tQ2xR4zP6nM0kJ9hG7fD5sA3\r\n"
    "Authorization: Basic ZWRpdG9yOkRydXAtNGwtRWRpdG9y\r\nContent-Type: application/hal+json\r\n"
    "Content-Length: 148\r\n\r\n"
    "{\"_links\":{\"type\":{\"href\":\"https://cms.example.org/rest/type/node/article\"}},\"body\":[{\"va"
    "lue\":\"<p>Doors open at 10:00.</p>\",\"format\":\"basic_html\"}]}",
    "POST /contact.php HTTP/1.1\r\nHost: www.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://www.example.com/contact.php\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 144\r\n\r\n"
    "name=Oscar+Wu&email=oscar.wu%40example.org&subject=Quote+request&message=Hello%2C+please+send+a+quot"
    "e+for+20+units+-+delivery+to+Lyon.+Thanks%21",
    /* Citrix SD-WAN Center, FUEL CMS admin, Unraid webGui, Juniper J-Web: ordinary pages and saves */
    "POST /sdwan/nitro/v1/config/get_package_file?action=file_download HTTP/1.1\r\n" "Host: sdwan.example.com\r\n"
    FPA_CHROME FPA_XHR "Cookie: CGISESSID=6b1f3a9c2e4d5f7a\r\nContent-Type: application/json\r\n"
    "Content-Length: 99\r\n\r\n"
    "{\"get_package_file\":{\"site_name\":\"branch-lyon\",\"appliance_type\":\"primary\",\"package_type\""
    ":\"active\"}}",
    "GET /sdwan/nitro/v1/config/site?view=summary HTTP/1.1\r\nHost: sdwan.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: CGISESSID=6b1f3a9c2e4d5f7a\r\n\r\n",
    "GET /fuel/pages/items?col=location&order=asc&offset=0&limit=50&search_term=about HTTP/1.1\r\n"
    "Host: www.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: fuel_c81e728d9d4c2f636f067f89cc14862c=a%3A1%3A%7Bs%3A2%3A%22id%22%3Bs%3A1%3A%221%22%3B%7D; c"
    "i_session=7f6e5d4c3b2a\r\n\r\n",
    "GET /fuel/pages/select/?filter=about-us&selected=12 HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME
    FPA_XHR "Cookie: ci_session=7f6e5d4c3b2a\r\n\r\n",
    "GET /fuel/navigation/items?col=nav_key&order=desc HTTP/1.1\r\n" "Host: www.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: ci_session=7f6e5d4c3b2a\r\n\r\n",
    "GET /Dashboard HTTP/1.1\r\nHost: tower.local\r\n" FPA_FIREFOX FPA_NAV
    "Cookie: unraid_7d8f3a2b1c4e5f6a=e2b8c4f1a9d3\r\n\r\n",
    "POST /update.php HTTP/1.1\r\nHost: tower.local\r\n" FPA_CHROME FPA_XHR
    "Cookie: unraid_7d8f3a2b1c4e5f6a=e2b8c4f1a9d3\r\nContent-Type: application/x-www-form-urlencoded; cha"
    "rset=UTF-8\r\nContent-Length: 124\r\n\r\n"
    "%23file=dynamix%2Fdynamix.cfg&%23section=display&date=%25c&time=%25R&number=.%2C&unit=C&scale=-1&csr"
    "f_token=3B8E2F1A9C4D7E6B",
    "GET /webGui/include/DashboardApps.php?display=icons&docker=1&vms=0 HTTP/1.1\r\n" "Host: tower.local\r\n"
    FPA_CHROME FPA_XHR "Cookie: unraid_7d8f3a2b1c4e5f6a=e2b8c4f1a9d3\r\n\r\n",
    "POST /webauth_operation.php HTTP/1.1\r\nHost: srx.example.com\r\n" FPA_CHROME FPA_XHR
    "Cookie: PHPSESSID=1a2b3c4d5e6f7a8b9c0d\r\nContent-Type: application/x-www-form-urlencoded; charset=U"
    "TF-8\r\nContent-Length: 100\r\n\r\n"
    "rs=do_auth&rsargs%5B%5D=%7B%22username%22%3A%22netops%22%2C%22password%22%3A%22Jun1per-Edge-22%22%7D",
    "GET /jsdm/#/monitor/interfaces HTTP/1.1\r\nHost: srx.example.com\r\n" FPA_CHROME FPA_NAV
    "Cookie: PHPSESSID=1a2b3c4d5e6f7a8b9c0d\r\n\r\n",
    /* Routers: TOTOLINK, Tenda and D-Link settings pages changing Wi-Fi, IPTV and WPS settings */
    "POST /cgi-bin/cstecgi.cgi HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Cookie: SESSION_ID=2:1715000000:2\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r"
    "\nContent-Length: 160\r\n\r\n"
    "{\"ssid\":\"Home-5G\",\"wifiOff\":\"0\",\"channel\":\"36\",\"authMode\":\"WPA2PSK\",\"encrypType\":\""
    "AES\",\"wpakey\":\"Rainy-Window-81\",\"wifiIdx\":\"1\",\"topicurl\":\"setWiFiBasicConfig\"}",
    "POST /boafrm/formWsc HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_NAV
    "Referer: http://192.168.0.1/wlwps.htm\r\nCookie: SESSION_ID=2:1715000000:2\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 137\r\n" "\r\n"
    "wps_clear_configure_by_reg0=0&disableWPS=OFF&localPin=48375026&peerPin=&setPIN=Start+PIN&configVxd=o"
    "ff&wlan_idx=0&submit-url=%2Fwlwps.htm",
    "POST /goform/SetIPTVCfg HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Cookie: password=8b3f1c2d9e4a\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 39\r\n\r\n" "stbEn=1&igmpEn=1&vlanId=85&list=85%2C86",
    "POST /goform/WifiBasicSet HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Cookie: password=8b3f1c2d9e4a\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
    "Content-Length: 167\r\n\r\n"
    "wrlEn=1&wrlEn_5g=1&security=wpapsk&security_5g=wpapsk&ssid=Tenda_Home&ssid_5g=Tenda_Home_5G&hideSsid"
    "=0&hideSsid_5g=0&wrlPwd=Paper-Lantern-55&wrlPwd_5g=Paper-Lantern-55",
    "POST /HNAP1/ HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "SOAPAction: \"http://purenetworks.com/HNAP1/GetDeviceSettings\"\r\n"
    "HNAP_AUTH: 5A6B7C8D9E0F1A2B3C4D5E6F7A8B9C0D 1715000000123\r\n"
    "Cookie: uid=Xk3mQ9pL\r\nContent-Type: text/xml; charset=utf-8\r\n" "Content-Length: 207\r\n\r\n"
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soa"
    "p/envelope/\"><soap:Body><GetDeviceSettings xmlns=\"http://purenetworks.com/HNAP1/\" /></soap:Body><"
    "/soap:Envelope>",
    "POST /hedwig.cgi HTTP/1.1\r\nHost: 192.168.0.1\r\n" FPA_CHROME FPA_XHR
    "Cookie: uid=Xk3mQ9pL\r\nContent-Type: text/xml\r\nContent-Length: 172\r\n" "\r\n"
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><postxml><module><service>WIFI.PHYINF</service><wifi><entr"
    "y><uid>WIFI-1</uid><ssid>dlink-home</ssid></entry></wifi></module></postxml>",
    "GET /cgi-bin/system_mgr.cgi?cmd=cgi_get_ntp_time&_=1715000000000 HTTP/1.1\r\n" "Host: dns320.local\r\n"
    FPA_CHROME FPA_XHR "Cookie: username=admin; uname=admin\r\n\r\n",
    "GET /cgi-bin/login_mgr.cgi?cmd=cgi_get_ssl_info&_=1715000000000 HTTP/1.1\r\n" "Host: dns320.local\r\n"
    FPA_CHROME FPA_XHR "Cookie: username=admin\r\n\r\n",
    /* More admin use: a Zabbix SAML user's single logout, Portainer's first-run form, SonarQube and JumpServer API
     * clients with tokens, a Harbor administrator creating another */
    "GET /zabbix/index_sso.php?slo HTTP/1.1\r\nHost: zabbix.example.com\r\n" FPA_CHROME FPA_NAV
    "Referer: https://zabbix.example.com/zabbix/zabbix.php?action=dashboard.view\r\n"
    "Cookie: zbx_session=eyJzYW1sX2RhdGEiOnsibmFtZWlkIjoiYWxpY2VAZXhhbXBsZS5vcmciLCJuYW1laWRfZm9ybWF0Ijoi"
    "dXJuOm9hc2lzOm5hbWVzOnRjOlNBTUw6MS4xOm5hbWVpZC1mb3JtYXQ6ZW1haWxBZGRyZXNzIiwic2Vzc2lvbl9pbmRleCI6Il84"
    "ZjJjMWE5ZTRiN2QiLCJ1c2VybmFtZV9hdHRyaWJ1dGUiOiJhbGljZSJ9LCJzZXNzaW9uaWQiOiI3ZDljMmY0YTZiOGUwYzFkM2U1"
    "ZjdhOWIyYzRkNmU4ZiIsInNpZ24iOiIzYTdmMWM5ZTJiNGQ2ZjhhMGMxZTNiNWQ3ZjlhMmM0ZTZiOGQwZjFhM2M1ZTdiOWQyZjRh"
    "NmM4ZTBiMWQzZjVhIn0=\r\n\r\n",
    "POST /api/users/admin/init HTTP/1.1\r\nHost: portainer.example.com:9443\r\n" FPA_CHROME FPA_FETCH
    "Origin: https://portainer.example.com:9443\r\nReferer: https://portainer.example.com:9443/\r\n"
    "Content-Type: application/json\r\nContent-Length: 59\r\n\r\n"
    "{\"Username\":\"admin\",\"Password\":\"P0rtainer-Setup-Long-2024\"}",
    "GET /api/settings/values?keys=sonar.core.serverBaseURL HTTP/1.1\r\n" "Host: sonar.example.com\r\n"
    "User-Agent: SonarScanner/5.0.1.3006\r\n"
    "Authorization: Basic c3F1XzRiOGMxZTJmOWEzZDdiNmM1ZTBmMWEyYjNjNGQ1ZTZmN2E4YjljMGQ6\r\n" "\r\n",
    "GET /api/v1/terminal/sessions/?limit=15&offset=0&is_finished=1&order=-date_start HTTP/1.1\r\n"
    "Host: jump.example.com\r\n" FPA_CHROME FPA_FETCH
    "Cookie: jms_sessionid=k2m4n6p8q0r2s4t6; jms_csrftoken=Aa1Bb2Cc3Dd4Ee5Ff6\r\n" "\r\n",
    "POST /api/v2.0/users HTTP/1.1\r\nHost: harbor.example.com\r\n" FPA_CHROME FPA_FETCH
    "X-Harbor-CSRF-Token: Qm9vdHN0cmFwLUNzcmYtVG9rZW4tMjAyNA==\r\n"
    "Cookie: sid=4b1e6f9a2c3d5e7f8a9b0c1d2e3f4a5b; _gorilla_csrf=MTcxNTAwMDAwMHxJa1J\r\n"
    "Content-Type: application/json\r\nContent-Length: 161\r\n\r\n"
    "{\"username\":\"ops-lead\",\"email\":\"ops-lead@example.org\",\"realname\":\"Ops Lead\",\"password\""
    ":\"H4rbor-Ops-Lead!\",\"comment\":\"second administrator\",\"has_admin_role\":true}",
    "GET /wp-admin/admin-ajax.php?action=depicter-lead-index&s=newsletter&page=1&_wpnonce=2a3b4c5d6e HTTP"
    "/1.1\r\nHost: blog.example.com\r\n" FPA_CHROME FPA_XHR
    FPA_WP_LOGGED_IN "\r\n",
};

#endif
