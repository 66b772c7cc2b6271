// bench/gen_orders.js FIXTURE N DAY OUTDIR: writes N Magento REST orders
// (the fixture's order with entity_id 1..N, increment ids 3000000001.., all
// created on DAY, status processing) as JSON arrays of at most 1000 orders,
// OUTDIR/orders-K.json, for POST /_magento/orders of the Magento double.
'use strict';
const fs = require('fs');
const [fixture, nText, day, outDir] = process.argv.slice(2);
const n = parseInt(nText, 10);
const base = JSON.parse(fs.readFileSync(fixture, 'utf8')).data.value;
let batch = [], k = 0;
for (let i = 1; i <= n; i++) {
  const o = JSON.parse(JSON.stringify(base));
  o.entity_id = i;
  o.increment_id = String(3000000000 + i);
  o.created_at = o.updated_at = `${day} 10:00:00`;
  o.status = 'processing';
  o.state = 'processing';
  batch.push(o);
  if (batch.length === 1000 || i === n) {
    fs.writeFileSync(`${outDir}/orders-${k++}.json`, JSON.stringify(batch));
    batch = [];
  }
}
