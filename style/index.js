import './base.css';
import './changes.css';
import './rescue.css';
import './needs.css';
import './export.css';
import './currency.css';
