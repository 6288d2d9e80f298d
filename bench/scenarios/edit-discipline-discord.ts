/** edit discipline, Discord channel half: the scenario and its definition are in edit-discipline.ts. */
import { editDiscipline } from './edit-discipline.js';

export default editDiscipline('discord');
