import { LOAD_TARGET_NAMES, SCENARIO_NAMES } from '../load/index.js';
import type { LoadResult, LoadTargetName, ScenarioName } from '../load/index.js';
import { formatNumber, targetLabel } from './format.js';
import type { MachineInfo } from './machine-info.js';
import type { LoadRun, SuiteSettings } from './suite-results.js';

const TARGET_COLORS: Readonly<Record<LoadTargetName, string>> = {
  server: '#2563eb', 'uws-inline': '#9ca3af', 'fastify-piscina': '#ea580c',
};

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A round axis step (1, 2 or 5 × a power of ten) giving about `tickCount` ticks up to `max`. */
function niceStep(max: number, tickCount: number): number {
  const rough = max / tickCount;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 5, 10].find((candidate) => candidate * magnitude >= rough) ?? 10;
  return multiple * magnitude;
}

function shortNumber(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return value >= 10 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
}

interface ChartPanel {
  readonly title: string;
  readonly axisLabel: string;
  value(result: LoadResult): number;
}

const CHART_WIDTH = 1000;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 80, right: 20, top: 40, bottom: 50 } as const;

function renderPanel(panel: ChartPanel, runs: readonly LoadRun[], scenarios: readonly ScenarioName[], top: number): string {
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotTop = top + MARGIN.top;
  const plotBottom = plotTop + plotHeight;
  const values = runs.map((run) => (run.result === undefined ? Number.NaN : panel.value(run.result))).filter(Number.isFinite);
  const step = niceStep(Math.max(1, ...values), 5);
  const axisMax = Math.ceil(Math.max(1, ...values) / step) * step;
  const y = (value: number): number => plotBottom - (value / axisMax) * plotHeight;
  const parts: string[] = [
    `<text x="${MARGIN.left}" y="${top + 22}" class="title">${escapeXml(panel.title)}</text>`,
    `<text transform="translate(18 ${plotTop + plotHeight / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeXml(panel.axisLabel)}</text>`,
  ];
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(tick)}" y2="${y(tick)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" text-anchor="end" class="tick">${shortNumber(tick)}</text>`,
    );
  }
  const groupWidth = plotWidth / scenarios.length;
  const barWidth = (groupWidth * 0.8) / LOAD_TARGET_NAMES.length;
  scenarios.forEach((scenario, groupIndex) => {
    const groupLeft = MARGIN.left + groupIndex * groupWidth + groupWidth * 0.1;
    parts.push(`<text x="${groupLeft + groupWidth * 0.4}" y="${plotBottom + 20}" text-anchor="middle" class="label">${scenario}</text>`);
    LOAD_TARGET_NAMES.forEach((target, barIndex) => {
      const x = groupLeft + barIndex * barWidth;
      const run = runs.find((entry) => entry.scenario === scenario && entry.target === target);
      const value = run?.result === undefined ? Number.NaN : panel.value(run.result);
      const centre = (x + barWidth / 2).toFixed(1);
      if (!Number.isFinite(value)) {
        if (run !== undefined) parts.push(`<text x="${centre}" y="${plotBottom - 6}" text-anchor="middle" class="value">failed</text>`);
        return;
      }
      const barTop = y(value);
      parts.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotBottom - barTop).toFixed(1)}" fill="${TARGET_COLORS[target]}"><title>${escapeXml(`${scenario}, ${targetLabel(run!)}: ${formatNumber(value, 1)}`)}</title></rect>`,
        `<text x="${centre}" y="${(barTop - 4).toFixed(1)}" text-anchor="middle" class="value">${shortNumber(value)}</text>`,
      );
    });
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${plotBottom}" y2="${plotBottom}" class="axis-line"/>`);
  return parts.join('\n');
}

/** Grouped bars, by scenario and target: completed operations per second, and server CPU µs per operation. */
export function renderChart(runs: readonly LoadRun[], machine: MachineInfo, settings: SuiteSettings): string {
  const scenarios = SCENARIO_NAMES.filter((scenario) => runs.some((run) => run.scenario === scenario));
  const panels: ChartPanel[] = [
    { title: 'Throughput: completed operations per second (higher is better)', axisLabel: 'ops/s', value: (result) => result.operationsPerSecond },
    { title: 'Server CPU per operation (lower is better)', axisLabel: 'CPU µs / op', value: (result) => result.serverCpu?.microsPerOperation ?? Number.NaN },
  ];
  const legendTop = 12;
  const height = legendTop + 24 + panels.length * PANEL_HEIGHT + 24;
  const legend = LOAD_TARGET_NAMES.map((target, index) => {
    const x = MARGIN.left + index * 200;
    const label = target === 'fastify-piscina' ? `${target} (best --cancel per scenario)` : target;
    return `<rect x="${x}" y="${legendTop}" width="14" height="14" fill="${TARGET_COLORS[target]}"/><text x="${x + 20}" y="${legendTop + 12}" class="label">${label}</text>`;
  }).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="system-ui, sans-serif">`,
    '<style>.title{font-size:15px;font-weight:600}.axis{font-size:13px}.label{font-size:13px}.tick{font-size:11px;fill:#444}' +
      '.value{font-size:10px;fill:#222}.grid{stroke:#e5e7eb}.axis-line{stroke:#333}.note{font-size:11px;fill:#555}</style>',
    `<rect width="${CHART_WIDTH}" height="${height}" fill="#fff"/>`,
    legend,
    ...panels.map((panel, index) => renderPanel(panel, runs, scenarios, legendTop + 24 + index * PANEL_HEIGHT)),
    `<text x="${MARGIN.left}" y="${height - 8}" class="note">${escapeXml(`autocannon, ${settings.connections} connections, ${settings.threads} threads; ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; shared machine`)}</text>`,
    '</svg>',
  ].join('\n');
}
