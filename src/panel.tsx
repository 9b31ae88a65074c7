import type { TranslationBundle } from '@jupyterlab/translation';
import {
  LabIcon,
  ReactWidget,
  SidePanel,
  ToolbarButton,
  UseSignal,
  refreshIcon
} from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';
import * as React from 'react';

import { ChangesModel } from './changes';
import { EnvHelperView } from './components/EnvHelperView';
import { CurrencyModel } from './currency';
import type { Exporter } from './exporting';
import { EnvHelperModel } from './model';
import { NewEnvironmentModel } from './newenv';

import envhelperSvg from '../style/icons/envhelper.svg';

/**
 * The panel's icon (a package box).
 */
export const envhelperIcon = new LabIcon({
  name: 'jupyter-envhelper:package',
  svgstr: envhelperSvg
});

/**
 * The left-sidebar panel of the Environment Helper.
 */
export class EnvHelperPanel extends SidePanel {
  constructor(options: EnvHelperPanel.IOptions) {
    super({ content: new Panel(), translator: options.translator });
    const { model, changes, exporter, trans } = options;
    this._model = model;
    this._changes = changes ?? null;
    const currency = changes
      ? new CurrencyModel({ host: model, changes })
      : null;
    this._currency = currency;
    const newEnvironment = changes
      ? new NewEnvironmentModel({ host: model })
      : null;
    this._newEnvironment = newEnvironment;
    this.id = 'jp-envhelper-panel';
    this.addClass('jp-EnvHelper');
    this.title.icon = envhelperIcon;
    this.title.caption = trans.__('Environment Helper');

    const heading = new Widget({ node: document.createElement('h2') });
    heading.node.textContent = trans.__('Environment Helper');
    heading.addClass('jp-EnvHelper-title');
    this.header.addWidget(heading);

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__("Read the kernel's environment again"),
        onClick: () => void model.refresh()
      })
    );

    const body = ReactWidget.create(
      <UseSignal signal={model.stateChanged}>
        {() =>
          changes && currency ? (
            <UseSignal signal={changes.changed}>
              {() => (
                <UseSignal signal={currency.changed}>
                  {() => (
                    <UseSignal signal={newEnvironment!.changed}>
                      {() => (
                        <EnvHelperView
                          model={model}
                          changes={changes}
                          exporter={exporter}
                          currency={currency}
                          newEnvironment={newEnvironment!}
                          trans={trans}
                        />
                      )}
                    </UseSignal>
                  )}
                </UseSignal>
              )}
            </UseSignal>
          ) : (
            <EnvHelperView model={model} exporter={exporter} trans={trans} />
          )
        }
      </UseSignal>
    );
    body.addClass('jp-EnvHelper-body');
    this.addWidget(body);
  }

  get model(): EnvHelperModel {
    return this._model;
  }

  get changes(): ChangesModel | null {
    return this._changes;
  }

  /** A new environment and kernel (newenv.ts); null without changes. */
  get newEnvironment(): NewEnvironmentModel | null {
    return this._newEnvironment;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._currency?.dispose();
    this._newEnvironment?.dispose();
    this._changes?.dispose();
    this._model.dispose();
    super.dispose();
  }

  private _model: EnvHelperModel;
  private _changes: ChangesModel | null;
  private _currency: CurrencyModel | null;
  private _newEnvironment: NewEnvironmentModel | null;
}

export namespace EnvHelperPanel {
  export interface IOptions {
    model: EnvHelperModel;
    changes?: ChangesModel;
    exporter?: Exporter;
    trans: TranslationBundle;
    translator?: import('@jupyterlab/translation').ITranslator;
  }
}
