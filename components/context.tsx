// Session context and small hooks shared by the components.
import {createContext, useContext} from 'react';
import {useStore} from 'zustand';
import {useShallow} from 'zustand/react/shallow';
import type {UiSession, UiState} from '../src/store/session.js';
import {makeTheme, type Theme} from '../src/ui/theme.js';

export const SessionContext = createContext<UiSession | null>(null);

export function useSession(): UiSession {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionContext.Provider>');
  return s;
}

/** Select a slice of the session's store (shallow-compared). */
export function useUi<T>(selector: (s: UiState) => T): T {
  const session = useSession();
  return useStore(session.store, useShallow(selector));
}

export function useTheme(): Theme {
  const mono = useUi((s) => s.mono);
  return makeTheme(mono);
}
