// Panel builders typed with @grafana/schema: each visualisation's options are checked
// against that panel's own generated Options type, and every query is one of the
// ClickHouse plugin's SQL-editor targets on the provisioned datasource.
import {
  BigValueColorMode, BigValueGraphMode, BigValueJustifyMode, BigValueTextMode, FieldColorModeId, LegendDisplayMode,
  MappingType, PercentChangeColorMode, SortOrder, StackingMode, ThresholdsMode, TooltipDisplayMode,
  VisibilityMode, VizOrientation, type FieldConfigSource, type GraphFieldConfig, type Panel, type ValueMapping,
} from '@grafana/schema';
import type { Options as BarChartOptions } from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type { Options as GeomapOptions } from '@grafana/schema/dist/esm/raw/composable/geomap/panelcfg/x/GeomapPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import { DATASOURCE } from './datasource';

/** What the plugin's backend makes of a result: sqlds' format numbers. */
export enum Format {
  TimeSeries = 0,
  Table = 1,
}

/** The plugin's SQL-editor query (CHSqlQuery). */
export interface ClickHouseTarget {
  [key: string]: unknown;
  refId: string;
  datasource: typeof DATASOURCE;
  editorType: 'sql';
  rawSql: string;
  format: Format;
  queryType: 'timeseries' | 'table';
}

export function sql(rawSql: string, format: Format, refId = 'A'): ClickHouseTarget {
  return { refId, datasource: DATASOURCE, editorType: 'sql', rawSql: rawSql.trim(), format, queryType: format === Format.TimeSeries ? 'timeseries' : 'table' };
}

interface Common {
  title: string;
  description: string;
  /** Width (of 24) and height in grid units. */
  w: number;
  h: number;
  unit?: string;
  overrides?: FieldConfigSource['overrides'];
}

/** Geofence verdicts as one ordered number, so that max() is the worst one. */
export const VERDICT_LEVELS: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      '0': { text: 'no fence', color: 'blue', index: 0 },
      '1': { text: 'compliant', color: 'green', index: 1 },
      '2': { text: 'unverified', color: 'orange', index: 2 },
      '3': { text: 'violation', color: 'red', index: 3 },
    },
  },
];

export const verdictLevelOverride: FieldConfigSource['overrides'][number] = {
  matcher: { id: 'byName', options: 'verdict_level' },
  properties: [
    { id: 'mappings', value: VERDICT_LEVELS },
    { id: 'color', value: { mode: FieldColorModeId.Thresholds } },
    {
      id: 'thresholds',
      value: {
        mode: ThresholdsMode.Absolute,
        steps: [
          { color: 'blue', value: null },
          { color: 'green', value: 1 },
          { color: 'orange', value: 2 },
          { color: 'red', value: 3 },
        ],
      },
    },
  ],
};

function base(type: string, c: Common, targets: ClickHouseTarget[], options: object, custom?: GraphFieldConfig): Panel {
  return {
    type,
    title: c.title,
    description: c.description,
    datasource: DATASOURCE,
    gridPos: { x: 0, y: 0, w: c.w, h: c.h },
    targets,
    options: { ...options },
    fieldConfig: {
      defaults: { ...(c.unit ? { unit: c.unit } : {}), ...(custom ? { custom: { ...custom } } : {}) },
      overrides: c.overrides ?? [],
    },
  };
}

export function timeSeries(c: Common & { stack?: boolean; bars?: boolean }, target: ClickHouseTarget): Panel {
  const options: TimeSeriesOptions = {
    legend: { showLegend: true, displayMode: LegendDisplayMode.Table, placement: 'right', calcs: ['sum', 'max'] },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
  };
  const custom: GraphFieldConfig = {
    fillOpacity: c.stack ? 40 : 10,
    stacking: { mode: c.stack ? StackingMode.Normal : StackingMode.None, group: 'A' },
    ...(c.bars ? { drawStyle: 'bars' as GraphFieldConfig['drawStyle'] } : {}),
  };
  return base('timeseries', c, [target], options, custom);
}

export function table(c: Common & { sortBy?: string }, target: ClickHouseTarget): Panel {
  const options: TableOptions = {
    showHeader: true,
    frameIndex: 0,
    ...(c.sortBy ? { sortBy: [{ displayName: c.sortBy, desc: true }] } : {}),
  };
  return base('table', c, [target], options);
}

export function stat(c: Common, target: ClickHouseTarget): Panel {
  const options: StatOptions = {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    orientation: VizOrientation.Auto,
    colorMode: BigValueColorMode.Value,
    graphMode: BigValueGraphMode.None,
    justifyMode: BigValueJustifyMode.Auto,
    textMode: BigValueTextMode.ValueAndName,
    percentChangeColorMode: PercentChangeColorMode.Standard,
    showPercentChange: false,
    wideLayout: true,
  };
  return base('stat', c, [target], options);
}

export function barChart(c: Common & { xField: string }, target: ClickHouseTarget): Panel {
  const options: BarChartOptions = {
    xField: c.xField,
    orientation: VizOrientation.Horizontal,
    showValue: VisibilityMode.Auto,
    stacking: StackingMode.Normal,
    barWidth: 0.8,
    groupWidth: 0.7,
    fullHighlight: false,
    xTickLabelMaxLength: 40,
    xTickLabelRotation: 0,
    legend: { showLegend: true, displayMode: LegendDisplayMode.List, placement: 'bottom', calcs: [] },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
  };
  return base('barchart', c, [target], options);
}

export function geomap(c: Common, options: GeomapOptions, targets: ClickHouseTarget[]): Panel {
  return base('geomap', c, targets, options);
}

/** Places panels left to right in rows of 24 columns, a new row when one does not fit. */
export function layout(panels: Panel[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((p, i) => {
    const { w, h } = p.gridPos ?? { w: 24, h: 8 };
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed: Panel = { ...p, id: i + 1, gridPos: { x, y, w, h } };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return placed;
  });
}
