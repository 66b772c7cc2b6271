#!/bin/sh
# smoke.sh: exercises a built jortt-double over HTTP with curl and jq, by hand:
#   tests/jortt_double/smoke.sh [path/to/jortt-double]
# With VALGRIND=1 the double runs under valgrind and the script fails on any
# leak or memory error. Starts its own double on a free port and stops it by
# PID. Exit status 0 = every check passed.
set -u
BIN=${1:-bin/jortt-double}
TMP=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

FAILS=0
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
# expect WHAT GOT WANT
expect() { if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi; }

if [ "${VALGRIND:-0}" = 1 ]; then
    valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99 \
        --log-file="$TMP/vg.log" "$BIN" --listen 127.0.0.1:0 --rate-limit 0 >"$TMP/out" 2>"$TMP/err" &
else
    "$BIN" --listen 127.0.0.1:0 --rate-limit 0 >"$TMP/out" 2>"$TMP/err" &
fi
PID=$!
i=0
while ! grep -q '^listening 127.0.0.1:[0-9]*$' "$TMP/out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$PID" 2>/dev/null; then echo "double did not start"; cat "$TMP/err"; exit 1; fi
    sleep 0.05
done
PORT=$(sed -n 's/^listening 127.0.0.1:\([0-9]*\)$/\1/p' "$TMP/out")
B=http://127.0.0.1:$PORT
echo "double on $B (pid $PID)"

# req METHOD PATH [BODY] -> writes body to $TMP/body, prints status
req() {
    if [ $# -ge 3 ]; then
        curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/json' --data-binary "$3" "$B$2"
    else
        curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" "$B$2"
    fi
}
j() { jq -r "$1" "$TMP/body"; }
state() { curl -s "$B/_double/state" | jq -r "$1"; }

# --- control basics
expect healthz "$(curl -s -o /dev/null -w '%{http_code}' $B/_double/healthz)" 200

# --- OAuth
TOKEN=none
expect "bad grant" "$(curl -s -o /dev/null -w '%{http_code}' -u a:b -d 'grant_type=password' $B/oauth-provider/oauth/token)" 400
expect "bad scope" "$(curl -s -o /dev/null -w '%{http_code}' -u a:b -d 'grant_type=client_credentials&scope=invoices:read+nope' $B/oauth-provider/oauth/token)" 400
curl -s -u id:secret -d 'grant_type=client_credentials&scope=customers:read%20customers:write+invoices:read+invoices:write' \
    $B/oauth-provider/oauth/token >"$TMP/body"
TOKEN=$(j .access_token)
expect "token type" "$(j .token_type)" Bearer
expect "expires_in" "$(j .expires_in)" 7200
expect "scope" "$(j .scope)" "customers:read customers:write invoices:read invoices:write"
curl -s -u id:secret -d 'grant_type=client_credentials&scope=customers:read' $B/oauth-provider/oauth/token >"$TMP/body"
RTOKEN=$(j .access_token)

SAVED=$TOKEN; TOKEN=bogus
expect "bad token" "$(req GET /customers)" 401
expect "bad token key" "$(j .error.key)" access_token.invalid
TOKEN=$RTOKEN
expect "missing scope" "$(req POST /customers '{"is_private":true,"customer_name":"X"}')" 401
expect "missing scope key" "$(j .error.key)" scopes.insufficient
TOKEN=$SAVED

# --- customers
expect "create private" "$(req POST /v3/customers '{"is_private":true,"customer_name":"John Doe","email":"John+Shop@Example.com","reference":"M2-CUST-1"}')" 201
C1=$(j .data.id)
expect "create company missing address" "$(req POST /customers '{"is_private":false,"customer_name":"ACME"}')" 422
expect "company details" "$(j '[.error.details[].param] | join(",")')" "address_street,address_postal_code,address_city,address_country_code"
expect "missing required" "$(req POST /customers '{}')" 422
expect "missing required keys" "$(j '[.error.details[].param] | join(",")')" "is_private,customer_name"
expect "unknown field" "$(req POST /customers '{"is_private":true,"customer_name":"X","nickname":"x"}')" 422
expect "unknown field key" "$(j .error.details[0].key)" is_unknown
expect "bad enum" "$(req POST /customers '{"is_private":true,"customer_name":"X","invoice_language":"xx"}')" 422
expect "bad type" "$(req POST /customers '{"is_private":"yes","customer_name":"X"}')" 422
expect "malformed json" "$(req POST /customers '{"is_private":true,')" 422
expect "malformed json key" "$(j .error.key)" params.invalid_format
expect "invalid utf-8" "$(req POST /customers "$(printf '{"is_private":true,"customer_name":"\377"}')")" 422
expect "invalid utf-8 key" "$(j .error.key)" params.invalid_encoding
expect "utf-8 name" "$(req POST /customers '{"is_private":true,"customer_name":"Zoë Ångström"}')" 201
expect "create company" "$(req POST /v1/customers '{"is_private":false,"customer_name":"ACME BV","address_street":"Rozengracht 75a","address_postal_code":"1012 AB","address_city":"Amsterdam","address_country_code":"NL","vat_number":"NL000099998B57","shift_vat":false}')" 201
C2=$(j .data.id)
expect "get customer" "$(req GET /customers/$C1)" 200
expect "get name" "$(j .data.customer_name)" "John Doe"
expect "null fields" "$(j '.data.address_street')" null
UPPER=$(echo "$C1" | tr a-f A-F)
expect "get upper-case id" "$(req GET /customers/$UPPER)" 200
expect "get non-uuid" "$(req GET /customers/123)" 422
expect "get unknown" "$(req GET /customers/00000000-0000-4000-8000-00000000abcd)" 404
expect "get unknown key" "$(j .error.key)" resource.not_found
expect "update" "$(req PUT /customers/$C1 '{"customer_name":"John Q. Doe"}')" 204
req GET /v3/customers/$C1 >/dev/null
expect "updated name" "$(j .data.customer_name)" "John Q. Doe"
expect "updated keeps email" "$(j .data.email)" "John+Shop@Example.com"
expect "invalid update" "$(req PUT /customers/$C1 '{"is_private":false}')" 422
req GET /customers/$C1 >/dev/null
expect "invalid update changed nothing" "$(j .data.is_private)" true
expect "query too short" "$(req GET '/customers?query=jo')" 422
expect "search email" "$(req GET '/customers?query=john%2Bshop@example')" 200
expect "search email hit" "$(j '.data | length'):$(j .data[0].id)" "1:$C1"
expect "search reference" "$(req GET '/v3/customers?query=m2-cust')" 200
expect "search reference hit" "$(j '.data | length')" 1
expect "search plus is space" "$(req GET '/customers?query=John+Q.')" 200
expect "search plus hit" "$(j '.data | length')" 1
expect "no v2 customers" "$(req GET /v2/customers)" 404

# pagination: 150 more customers
i=0
while [ $i -lt 150 ]; do
    req POST /customers "{\"is_private\":true,\"customer_name\":\"Bulk $i\",\"email\":\"bulk$i@example.com\"}" >/dev/null
    i=$((i + 1))
done
expect "page 1" "$(req GET '/customers?query=bulk')" 200
expect "page 1 size" "$(j '.data | length')" 100
expect "page 1 prev" "$(j '._links.previous')" null
expect "page 1 next" "$(j '._links.next.href')" "$B/customers?query=bulk&page=2"
expect "page 2" "$(req GET '/customers?query=bulk&page=2')" 200
expect "page 2 size" "$(j '.data | length')" 50
expect "page 2 next" "$(j '._links.next')" null
expect "bad page" "$(req GET '/customers?page=0')" 422

# --- invoices
L='{"description":"Your product","quantity":"4","amount":{"amount":"499.00","currency":"EUR"},"vat":{"value":"0.21","category":null},"ledger_account_id":"00000000-0000-4000-8000-000000000001"}'
expect "invoice unknown customer" "$(req POST /v3/invoices "{\"customer_id\":\"00000000-0000-4000-8000-00000000abcd\",\"line_items\":[$L]}")" 422
expect "invoice no lines" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[]}")" 422
expect "invoice 3 decimals" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[{\"description\":\"x\",\"quantity\":\"1\",\"amount\":{\"amount\":\"1.005\",\"currency\":\"EUR\"},\"vat\":{\"value\":\"0.21\"}}]}")" 422
expect "invoice 3 decimals param" "$(j .error.details[0].param)" "line_items[0][amount][amount]"
expect "invoice vat percent" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[{\"description\":\"x\",\"quantity\":\"1\",\"amount\":{\"amount\":\"1.00\",\"currency\":\"EUR\"},\"vat\":{\"value\":\"21.0\"}}]}")" 422
expect "invoice numeric quantity" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[{\"description\":\"x\",\"quantity\":1,\"amount\":{\"amount\":\"1.00\",\"currency\":\"EUR\"},\"vat\":{\"value\":\"0.21\"}}]}")" 422
expect "invoice parent ledger" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[{\"description\":\"x\",\"quantity\":\"1\",\"amount\":{\"amount\":\"1.00\",\"currency\":\"EUR\"},\"vat\":{\"value\":\"0.21\"},\"ledger_account_id\":\"00000000-0000-4000-8000-000000000000\"}]}")" 422
expect "invoice unknown field" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"vat_total\":\"1\",\"line_items\":[$L]}")" 422
expect "invoice bad send_method" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"send_method\":\"fax\",\"line_items\":[$L]}")" 422
expect "invoice draft" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"reference\":\"ORDER-1000001\",\"net_amounts\":false,\"line_items\":[$L]}")" 201
I1=$(j .data.id)
expect "get invoice" "$(req GET /v3/invoices/$I1)" 200
expect "invoice totals" "$(j '[.data.invoice_total.amount, .data.invoice_total_incl_vat.amount, .data.invoice_due_amount.amount] | join(" ")')" "1996.00 2415.16 2415.16"
expect "invoice status" "$(j .data.invoice_status):$(j .data.invoice_number)" "draft:null"
expect "line total" "$(j .data.line_items[0].total_amount_ex_vat.amount):$(j .data.line_items[0].quantity):$(j .data.line_items[0].vat.value)" "1996.00:4:0.21"
expect "customer snapshot" "$(j .data.customer_company_name)" "ACME BV"
NL='[{"description":"Shirt","quantity":"1","amount":{"amount":"12.10","currency":"EUR"},"vat":{"value":"0.21","category":null}},{"description":"Book","quantity":"2","amount":{"amount":"5.45","currency":"EUR"},"vat":{"value":"0.09","category":null}},{"description":"Shipping","quantity":"1","amount":{"amount":"4.95","currency":"EUR"},"vat":{"value":"0.21","category":null},"ledger_account_id":"00000000-0000-4000-8000-000000000004"}]'
expect "invoice sent" "$(req POST /invoices "{\"customer_id\":\"$C1\",\"reference\":\"ORDER-1000002\",\"net_amounts\":true,\"send_method\":\"self\",\"invoice_date\":\"2026-11-03\",\"payment_method\":\"already_paid\",\"line_items\":$NL}")" 201
I2=$(j .data.id)
req GET /v2/invoices/$I2 >/dev/null
expect "net totals" "$(j '[.data.invoice_total.amount, .data.invoice_total_incl_vat.amount] | join(" ")')" "24.09 27.95"
expect "sent status" "$(j .data.invoice_status)" sent
expect "invoice number" "$(j .data.invoice_number)" 202611-001
expect "due date" "$(j .data.invoice_due_date)" 2026-12-03
expect "list by reference" "$(req GET '/v3/invoices?query=order-100000')" 200
expect "list by reference n" "$(j '.data | length')" 2
expect "list by number" "$(req GET '/invoices?query=202611-001')" 200
expect "list by number hit" "$(j .data[0].id)" "$I2"
expect "list by customer" "$(req GET '/v2/invoices?query=acme')" 200
expect "list by customer hit" "$(j .data[0].id)" "$I1"
expect "list drafts" "$(req GET '/invoices?invoice_status=draft')" 200
expect "list drafts n" "$(j '.data | length')" 1
expect "list bad status" "$(req GET '/invoices?invoice_status=lost')" 422

# --- credit
expect "credit" "$(req POST /v3/invoices/$I2/credit '{"send_method":"self"}')" 201
CR=$(j .data.id)
req GET /v3/invoices/$CR >/dev/null
expect "credit totals" "$(j '[.data.invoice_total.amount, .data.invoice_total_incl_vat.amount] | join(" ")')" "-24.09 -27.95"
expect "credit quantity" "$(j .data.line_items[1].quantity)" -2
expect "credit links" "$(j .data.credited_invoice_id)" "$I2"
# a credit invoice is dated today (the original's date is not copied)
expect "credit number" "$(j .data.invoice_number)" "$(date -u +%Y%m)-002"
req GET /v3/invoices/$I2 >/dev/null
expect "original links" "$(j '.data.credit_invoice_ids | join(",")')" "$CR"
expect "credit twice" "$(req POST /invoices/$I2/credit)" 422
expect "credit twice key" "$(j .error.key)" operation.invalid
expect "credit a credit" "$(req POST /invoices/$CR/credit)" 422

# --- delete (drafts only), and the merchant sending a draft (control API)
expect "delete sent" "$(req DELETE /v3/invoices/$I2)" 422
expect "delete sent key" "$(j .error.key)" operation.invalid
req GET /invoices/$I1 >/dev/null
expect "draft may be deleted" "$(j '.possible_actions | index("delete") != null')" true
expect "delete draft" "$(req DELETE /invoices/$I1)" 204
expect "deleted get" "$(req GET /v3/invoices/$I1)" 404
expect "deleted get key" "$(j .error.key)" resource.not_found
expect "delete again" "$(req DELETE /v3/invoices/$I1)" 404
expect "deleted listed apart" "$(state '[.deleted_invoices[].id] | join(",")')" "$I1"
expect "deleted not listed" "$(state "[.invoices[] | select(.id == \"$I1\")] | length")" 0
expect "draft to send" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"invoice_date\":\"2026-11-05\",\"line_items\":[$L]}")" 201
I3=$(j .data.id)
expect "send by hand" "$(curl -s -o "$TMP/body" -w '%{http_code}' -d '{}' $B/_double/invoices/$I3/send)" 200
expect "sent by hand" "$(j .data.invoice_status):$(j .data.invoice_number):$(j .data.send_method)" "sent:202611-003:self"
expect "send twice" "$(curl -s -o /dev/null -w '%{http_code}' -d '{}' $B/_double/invoices/$I3/send)" 422
expect "send unknown" "$(curl -s -o /dev/null -w '%{http_code}' -d '{}' $B/_double/invoices/$I1/send)" 404
expect "delete sent by hand" "$(req DELETE /v1/invoices/$I3)" 422

# --- ledger, unknown endpoints
expect "ledger" "$(req GET /ledger_accounts/invoices)" 200
expect "ledger selectable" "$(j '[.data[] | select(.selectable) | .ledger_account_id] | length >= 4')" true
expect "not found" "$(req GET /nothing)" 404
expect "not found key" "$(j .error.key)" endpoint.not_found
expect "method" "$(req PATCH /customers '{}')" 405
expect "method delete invoices" "$(req DELETE /v3/invoices)" 405

# --- faults
N0=$(state '.invoices | length')
expect "faults" "$(curl -s -o /dev/null -w '%{http_code}' -d '{"fail_next":2,"status":502,"match":"POST /v3/invoices"}' $B/_double/faults)" 200
expect "fault 1" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[$L]}")" 502
grep -q '502 Bad Gateway' "$TMP/body" && ok || fail "502 is not the nginx page"
expect "fault not matched" "$(req GET /customers/$C1)" 200
expect "fault 2" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[$L]}")" 502
expect "after faults" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[$L]}")" 201
expect "faulted had no effect" "$(state '.invoices | length')" $((N0 + 1))
expect "faulted count" "$(state .calls.faulted)" 2

# --- the organisation (scope organizations:read), and an administration without an API plan
expect "tradenames without scope" "$(req GET /v3/tradenames)" 401
expect "tradenames scope key" "$(j .error.key)" scopes.insufficient
SAVED=$TOKEN
curl -s -u id:secret -d 'grant_type=client_credentials&scope=organizations:read' $B/oauth-provider/oauth/token >"$TMP/body"
TOKEN=$(j .access_token)
expect "tradenames v3" "$(req GET /v3/tradenames)" 200
expect "tradenames count" "$(j '.data | length')" 2
expect "organization v1" "$(req GET /v1/organizations/me)" 200
expect "organization name" "$(j .data.company_name)" "Testwinkel BV"
expect "organization oss" "$(j .data.one_stop_shop_enabled)" false
curl -s -o /dev/null -d '{"requires_mkb_plan":true}' $B/_double/faults
expect "no plan" "$(req GET /v3/organizations/me)" 401
expect "no plan key" "$(j .error.key)" organization.requires_mkb_plan
curl -s -o /dev/null -d '{}' $B/_double/faults
TOKEN=$SAVED
curl -s -o /dev/null -d '{"fail_next":1,"status":500}' $B/_double/faults
expect "fault 500" "$(req GET /customers/$C1)" 500
expect "fault 500 key" "$(j .error.key)" server.internal_error
curl -s -o /dev/null -d '{"fail_next":1,"status":429}' $B/_double/faults
expect "fault 429" "$(req GET /customers/$C1)" 429
expect "fault 429 key" "$(j .error.key)" request.throttled
# retry_after: faulted replies carry Retry-After; unfaulted ones do not
curl -s -o /dev/null -d '{"fail_next":1,"status":503,"retry_after":120}' $B/_double/faults
RA=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" $B/customers/$C1 | tr -d '\r' | sed -n 's/^Retry-After: //Ip')
expect "fault Retry-After" "$RA" 120
RA=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" $B/customers/$C1 | tr -d '\r' | sed -n 's/^Retry-After: //Ip')
expect "no Retry-After when not faulted" "$RA" ""
# a method-only match spares the token endpoint; a match naming oauth hits it
curl -s -o /dev/null -d '{"fail_next":1,"status":500,"match":"POST"}' $B/_double/faults
expect "POST match spares token" "$(curl -s -o /dev/null -w '%{http_code}' -u id:secret -d 'grant_type=client_credentials' $B/oauth-provider/oauth/token)" 200
curl -s -o /dev/null -d '{"fail_next":1,"status":500,"match":"POST /oauth-provider"}' $B/_double/faults
expect "oauth match faults token" "$(curl -s -o /dev/null -w '%{http_code}' -u id:secret -d 'grant_type=client_credentials' $B/oauth-provider/oauth/token)" 500
curl -s -o /dev/null -d '{}' $B/_double/faults

# drop after apply: the client gets no response, the invoice exists
curl -s -o /dev/null -d '{"drop_after_apply":1,"match":"POST /v3/invoices"}' $B/_double/faults
N0=$(state '.invoices | length')
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -d "{\"customer_id\":\"$C2\",\"reference\":\"DROPPED\",\"line_items\":[$L]}" $B/v3/invoices
expect "drop curl exit (52 = empty reply)" "$?" 52
expect "drop applied" "$(state '.invoices | length')" $((N0 + 1))
expect "drop counted" "$(state .calls.dropped)" 1
expect "next post answered" "$(req POST /v3/invoices "{\"customer_id\":\"$C2\",\"line_items\":[$L]}")" 201

# latency does not block the loop
curl -s -o /dev/null -d '{"latency_ms":700}' $B/_double/faults
START=$(date +%s%N)
req GET /customers/$C1 >"$TMP/slow_status" &
SLOW=$!
sleep 0.1
H=$(curl -s -o /dev/null -w '%{http_code}:%{time_total}' $B/_double/healthz)
wait $SLOW
END=$(date +%s%N)
expect "slow status" "$(cat "$TMP/slow_status")" 200
[ $(((END - START) / 1000000)) -ge 700 ] && ok || fail "latency not applied ($(((END - START) / 1000000)) ms)"
case $H in 200:0.0*) ok ;; *) fail "control blocked by latency: $H" ;; esac

# maintenance, expired tokens
curl -s -o /dev/null -d '{"maintenance":true}' $B/_double/faults
expect "maintenance" "$(req GET /customers/$C1)" 503
expect "maintenance key" "$(j .error.key)" server.maintenance
curl -s -o /dev/null -d '{"maintenance":false}' $B/_double/faults
expect "maintenance off" "$(req GET /customers/$C1)" 200
curl -s -o /dev/null -d '{"expire_tokens":true}' $B/_double/faults
expect "expired" "$(req GET /customers/$C1)" 401
expect "expired key" "$(j .error.key)" access_token.expired
curl -s -u id:secret -d 'grant_type=client_credentials' $B/oauth-provider/oauth/token >"$TMP/body"
TOKEN=$(j .access_token)
expect "new token works" "$(req GET /customers/$C1)" 200
curl -s -o /dev/null -d '{"fail_next":1,"status":422,"match":"POST /customers"}' $B/_double/faults
expect "fault 422" "$(req POST /customers '{"is_private":true,"customer_name":"X"}')" 422
expect "fault 422 param" "$(j .error.key):$(j .error.details[0].param)" "params.invalid:injected"
expect "bad faults" "$(curl -s -o /dev/null -w '%{http_code}' -d '{"status":418}' $B/_double/faults)" 422
curl -s -o /dev/null -d '{}' $B/_double/faults

# rate limit
curl -s -o /dev/null -d '{"rate_limit":5}' $B/_double/config
T0=$(state .calls.throttled)
codes=""
for n in 1 2 3 4 5 6 7 8; do codes="$codes $(req GET /customers/$C1)"; done
expect "rate limit" "$codes" " 200 200 200 200 200 429 429 429"
expect "throttled key" "$(j .error.key)" request.throttled
expect "throttled count" "$(state .calls.throttled)" $((T0 + 3))
# a client spacing its calls 1/N s apart is never throttled
curl -s -o /dev/null -d '{"rate_limit":10}' $B/_double/config
sleep 1.1
T0=$(state .calls.throttled)
for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
    req GET /customers/$C1 >/dev/null
    sleep 0.1
done
expect "smooth client not throttled" "$(state .calls.throttled)" "$T0"
curl -s -o /dev/null -d '{"rate_limit":0}' $B/_double/config

# body bound
head -c 5000000 /dev/zero | tr '\0' 'a' >"$TMP/big"
expect "body too large" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" --data-binary @"$TMP/big" $B/customers)" 413

# counters, delete, reset
expect "by endpoint" "$(state '.calls.by_endpoint["POST /v3/customers"]')" 1
expect "delete" "$(req DELETE /customers/$C1)" 204
expect "deleted is gone" "$(req GET /customers/$C1)" 404
expect "deleted not invoiceable" "$(req POST /v3/invoices "{\"customer_id\":\"$C1\",\"line_items\":[$L]}")" 422
expect "deleted in state" "$(state '[.customers[].id] | index("'$C1'")'):$(state '.deleted_customers[0].id')" "null:$C1"
expect "reset" "$(curl -s -o /dev/null -w '%{http_code}' -X POST $B/_double/reset)" 200
expect "reset state" "$(state '[(.customers|length), (.invoices|length), .calls.total] | join(",")')" "0,0,0"
expect "token survives reset" "$(req GET /customers)" 200

kill -TERM "$PID"
wait "$PID"
RC=$?
PID=
expect "exit status on SIGTERM" "$RC" 0
if [ "${VALGRIND:-0}" = 1 ] && [ -s "$TMP/vg.log" ]; then fail "valgrind:"; cat "$TMP/vg.log"; fi
echo "smoke: $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
