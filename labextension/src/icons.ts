import { LabIcon } from '@jupyterlab/ui-components';

import flowsSvg from '../style/icons/flows.svg';

export const flowsIcon = new LabIcon({ name: 'jupyter-flows:flows', svgstr: flowsSvg });
