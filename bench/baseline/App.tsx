// BASELINE, not used by the app: the view bodies as they were before the frame-cost work (rows as one Ink
// <Text> per row, the Dashboard before the lower panels), kept only so bench/ui.tsx can time the
// same frame drawn by the old and the current components in one run and check they look the same.
import {Box} from 'ink';
import type {UiSession} from '../../src/store/session.js';
import {layout} from '../../src/store/layout.js';
import {SessionContext, useUi} from '../../components/context.js';
import {Footer} from '../../components/Footer.js';
import {Header} from '../../components/Header.js';
import {Connections} from './Connections.js';
import {Dashboard} from './Dashboard.js';
import {DashboardPanels} from './DashboardPanels.js';

/** `panels`: the Dashboard with its lower panels as drawn before its lines were pre-painted (DashboardPanels.tsx). */
export function BaselineApp({session, panels = false}: {session: UiSession; panels?: boolean}) {
  return (
    <SessionContext.Provider value={session}>
      <Root panels={panels} />
    </SessionContext.Provider>
  );
}

function Root({panels}: {panels: boolean}) {
  const v = useUi((s) => ({view: s.view, size: s.size}));
  const l = layout(v.size);
  const props = {width: l.cols, height: l.body};
  return (
    <Box flexDirection="column" width={l.cols} height={l.height}>
      <Header width={l.cols} />
      <Box flexDirection="column" width={l.cols} height={l.body}>
        {v.view !== 'dashboard' ? <Connections {...props} /> : panels ? <DashboardPanels {...props} /> : <Dashboard {...props} />}
      </Box>
      <Footer width={l.cols} />
    </Box>
  );
}
