// The root component: header, the current view (or an overlay) and the footer, sized to the
// terminal and re-laid out on resize. Keys go to the session's dispatcher (src/ui/keys.ts).
import {Box, useApp, useInput, useStdout} from 'ink';
import {useEffect} from 'react';
import type {UiSession} from '../src/store/session.js';
import {layout} from '../src/store/layout.js';
import {handleKey} from '../src/ui/keys.js';
import {SessionContext, useUi} from './context.js';
import {SyncView} from './views/Sync.js';
import {AuditPane} from './AuditPane.js';
import {Footer} from './Footer.js';
import {Header} from './Header.js';
import {Overlay} from './Overlays.js';
import {Connections} from './views/Connections.js';
import {Dashboard} from './views/Dashboard.js';
import {Log} from './views/Log.js';
import {Services} from './views/Services.js';
import {Traffic} from './views/Traffic.js';
import {Tunables} from './views/Tunables.js';

export function App({session}: {session: UiSession}) {
  return (
    <SessionContext.Provider value={session}>
      <Root session={session} />
    </SessionContext.Provider>
  );
}

function Root({session}: {session: UiSession}) {
  const {exit} = useApp();
  const {stdout} = useStdout();
  useEffect(() => {
    const update = () => {
      const cur = session.state.size;
      session.setSize({cols: stdout.columns || cur.cols, rows: stdout.rows || cur.rows});
    };
    update();
    stdout.on('resize', update);
    return () => { stdout.off('resize', update); };
  }, [stdout, session]);
  useInput((input, key) => handleKey(session, input, key));
  const v = useUi((s) => ({view: s.view, overlay: s.overlay?.kind ?? null, size: s.size, quit: s.quitRequested}));
  useEffect(() => { if (v.quit) exit(); }, [v.quit, exit]);
  const l = layout(v.size);
  const props = {width: l.cols, height: l.body};
  let body;
  if (v.overlay) body = <Overlay {...props} />;
  else {
    switch (v.view) {
      case 'dashboard': body = <Dashboard {...props} />; break;
      case 'services': body = <Services {...props} />; break;
      case 'conns': body = <Connections {...props} />; break;
      case 'tunables': body = <Tunables {...props} />; break;
      case 'traffic': body = <Traffic {...props} />; break;
      case 'log': body = <Log {...props} />; break;
      case 'audit': body = <AuditPane {...props} />; break;
      case 'sync': body = <SyncView {...props} />; break;
    }
  }
  return (
    <Box flexDirection="column" width={l.cols} height={l.height}>
      <Header width={l.cols} />
      <Box flexDirection="column" width={l.cols} height={l.body}>{body}</Box>
      <Footer width={l.cols} />
    </Box>
  );
}
