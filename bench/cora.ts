import { type CoraFigures, runCora } from '../training/dmon/cora.ts';

/**
 * DMoN on Cora (SPEC §6: "DMoN on a standard citation graph against the DMoN paper's table").
 * Usage: node bench/cora.ts [epochs=1000] [seeds=1,2,3] [dropouts=0,0.5]
 * Paper (16 clusters): modularity 0.765, conductance 0.122, NMI 0.488; our targets ≥ 0.70 and
 * ≥ 0.40. The 7-label partition has modularity 0.640; Louvain 0.813 with ~103 communities.
 * stdout: JSON per run and a per-dropout summary; progress on stderr.
 */
const epochs = Number(process.argv[2] ?? 1000);
const seeds = (process.argv[3] ?? '1,2,3').split(',').map(Number);
const dropouts = (process.argv[4] ?? '0,0.5').split(',').map(Number);
const log = (line: string) => process.stderr.write(line + '\n');

const runs: (CoraFigures & { dropout: number; seed: number })[] = [];
for (const dropout of dropouts)
  for (const seed of seeds) {
    const f = await runCora({ epochs, config: { seed, dropout }, log });
    runs.push({ dropout, seed, ...f });
    log(
      `dropout ${dropout} seed ${seed}: modularity ${f.modularity.toFixed(3)} conductance ${f.conductance.toFixed(3)} ` +
        `(mean ${f.meanConductance.toFixed(3)}) NMI ${f.nmi.toFixed(3)} active ${f.activeClusters}/${f.clusters} ` +
        `${f.seconds.toFixed(1)}s (${f.backend})`,
    );
  }
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const summary = dropouts.map((dropout) => {
  const rs = runs.filter((r) => r.dropout === dropout);
  return {
    dropout,
    runs: rs.length,
    modularity: mean(rs.map((r) => r.modularity)),
    conductance: mean(rs.map((r) => r.conductance)),
    nmi: mean(rs.map((r) => r.nmi)),
    minNmi: Math.min(...rs.map((r) => r.nmi)),
    activeClusters: mean(rs.map((r) => r.activeClusters)),
    seconds: mean(rs.map((r) => r.seconds)),
  };
});
process.stdout.write(JSON.stringify({ epochs, runs, summary }, null, 2) + '\n');
