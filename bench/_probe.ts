import {SchedFixture, packet} from '../test/helpers/sched-fixture.js';
function bench(name: string) {
  const f = new SchedFixture(name);
  [5,1,3,8,2,7,4,6].forEach((w,i)=>f.add(0x0a000100+i+1,{weight:w}));
  const p = packet('1.2.3.4');
  const out: string[] = [];
  for (let r=0;r<3;r++){ const t0=performance.now(); let n=0; while(performance.now()-t0<200){ for(let k=0;k<1024;k++){ f.schedule(p); } n+=1024;} out.push((n/(performance.now()-t0)*1000/1e6).toFixed(2)); }
  console.log(name, out.join(' '));
}
for (const s of process.argv.slice(2)) bench(s);
